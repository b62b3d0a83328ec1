"""``bm25x.embed`` and ``bm25x.aembed``: Qdrant inference objects embedded on the client.

An item is a ``str`` (embedded with the call's ``model`` and ``options``), a
``qdrant_client.models.Document`` / ``Image`` / ``InferenceObject``, or a dict of the same
shape (``{"text" | "image" | "object": ..., "model": ..., "options": {...}}``).

What happens to a call:

1. every item is resolved to a provider through :mod:`bm25x.providers` (all before anything is
   sent: an unknown model or a malformed item fails the call at once, naming the item);
2. items are grouped per (provider, model, options, kind of input); the ``*-api-key`` options
   travel beside the options, and ``mrl`` is taken out so that one computation serves every
   size asked for;
3. within a group, identical inputs are embedded once;
4. each group is cut into batches within the provider's limit, and all batches run
   concurrently (at most ``max_concurrency`` per provider);
5. vectors are put back in input order, cut to ``mrl`` dimensions where asked (no
   re-normalisation: Qdrant's MRL keeps the first N values, and a Cosine collection normalises
   on upload anyway), and copied for repeated inputs, so no two results share memory.

Steps 1 to 3 are :mod:`bm25x._embed.plan` (items parsed by :mod:`bm25x._embed.items`), step 4
is :mod:`bm25x._embed.run`, step 5 :mod:`bm25x._embed.finish`.

If some batches fail, :class:`bm25x.PartialInferenceError` names the failed items and keeps
the vectors that were computed; if everything failed for one reason, that error is raised.
A vector that is empty or holds NaN or infinite values fails its item, and vectors of one
model whose sizes differ between batches fail the group (:class:`bm25x.ProviderResponseError`).

Where it runs: calls that need only local models (bm25, the local-models provider's) run in
the caller's thread and never build an HTTP client; calls with remote providers run on bm25x's
own event loop with one pooled ``aiohttp`` session (:mod:`bm25x.providers._clients`), unless
the caller passes ``http_client`` (an ``httpx.AsyncClient`` or an ``aiohttp.ClientSession``),
which runs them on the caller's loop. The whole call ends within ``deadline`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from bm25x._embed.finish import finish
from bm25x._embed.items import collect_headers
from bm25x._embed.plan import Cloud, Plan, check_call, make_plan
from bm25x._embed.run import run
from bm25x._embed.usage import Usage
from bm25x.providers._base import DEFAULT_FETCH_POLICY
from bm25x.providers._fetch import FetchPolicy

if TYPE_CHECKING:
    import aiohttp
    import httpx

__all__ = ["DEFAULT_DEADLINE", "Usage", "aembed", "embed"]

#: The default of ``deadline=``: seconds an embed call may take in all, retries included.
DEFAULT_DEADLINE = 300.0


async def aembed(
    items: Any,
    *,
    model: str | None = None,
    options: Mapping[str, Any] | None = None,
    query: bool = False,
    cloud: Cloud = False,
    headers: Mapping[str, str] | None = None,
    max_concurrency: int | None = None,
    fetch_policy: FetchPolicy | None = None,
    http_client: httpx.AsyncClient | aiohttp.ClientSession | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    usage: Usage | None = None,
) -> Any:
    """Embed one item or a list of items; the awaitable form of :func:`embed`.

    With ``http_client`` the call runs on the caller's event loop and sends every remote
    request through that client (which bm25x never closes); without it, remote requests run
    on bm25x's own loop with its pooled client, and cancelling the awaiting task cancels them.
    """
    plan, coro = _prepare(
        items, model, options, query, cloud, headers, max_concurrency, fetch_policy, http_client,
        deadline, usage,
    )  # fmt: skip
    # The caller's items, options and headers may hold keys in clear; this frame's locals
    # show in capture_locals tracebacks, so they go once bm25x holds its masked copies.
    del items, options, headers
    if http_client is not None or not plan.remote:
        return await coro
    from bm25x.providers._clients import await_shared

    return await await_shared(coro)


def embed(
    items: Any,
    *,
    model: str | None = None,
    options: Mapping[str, Any] | None = None,
    query: bool = False,
    cloud: Cloud = False,
    headers: Mapping[str, str] | None = None,
    max_concurrency: int | None = None,
    fetch_policy: FetchPolicy | None = None,
    http_client: httpx.AsyncClient | aiohttp.ClientSession | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    usage: Usage | None = None,
) -> Any:
    """Embed one item, or a list of items, on the client, as Qdrant's inference would.

    ``items``: a ``str`` (embedded with ``model`` and ``options``), a
    ``qdrant_client.models.Document`` / ``Image`` / ``InferenceObject``, a dict of the same
    shape, or a list of these (mixing models and providers freely). Returns one result per
    item, in order (a list for a list, one result for one item): a :class:`bm25x.SparseVector`
    for sparse models, a float32 numpy array for dense ones, a list of float32 arrays for
    late-interaction models.

    ``query=True`` selects query-side encoding (bm25 queries, Cohere's ``search_query``, Jina's
    ``retrieval.query``). ``headers`` are request headers as given to qdrant-client (API keys
    under ``openai-api-key`` etc.); headers set with ``qdrant_client.context_headers.headers``
    are read too. ``cloud=True`` leaves every item for Qdrant Cloud to embed (returned as a
    qdrant-client model object), ``cloud="fallback"`` only those no local provider serves.

    ``fetch_policy`` governs image URLs bm25x fetches itself (for Cohere): by default only
    public addresses, at most 5 MiB, 30 s (see :class:`bm25x.providers.FetchPolicy`).
    ``http_client`` (an ``httpx.AsyncClient`` or an ``aiohttp.ClientSession``) is used for
    every remote request and never closed by bm25x (otherwise bm25x pools one aiohttp session
    across calls; local models never create one). ``deadline`` bounds
    the whole call, retries and waits included, in seconds (``None``: no bound); items not
    embedded by then fail with :class:`bm25x.ProviderHTTPError`.

    ``usage``: a :class:`bm25x.Usage` the call fills with the tokens its providers counted,
    per item and per model (the remote APIs' own counts; for local models, which count only
    when asked, bm25's kept terms and the local-models provider's tokenizer tokens).

    bm25 options are checked as :class:`bm25x.Bm25` checks them: an unknown key or language
    fails the item (:class:`bm25x.BadInputError`), where a Qdrant server would ignore the key
    or treat the language as ``"none"``. To encode as the server does, pass the options
    through ``bm25x.qdrant.server_options`` first.

    >>> import bm25x
    >>> v = bm25x.embed("Recipe for baking chocolate chip cookies", model="qdrant/bm25")
    >>> v == bm25x.Bm25().encode("Recipe for baking chocolate chip cookies")
    True
    """
    plan, coro = _prepare(
        items, model, options, query, cloud, headers, max_concurrency, fetch_policy, http_client,
        deadline, usage,
    )  # fmt: skip
    del items, options, headers  # may hold keys in clear; see aembed
    # Decided outside any ``except`` block, so that errors do not carry a "no running event
    # loop" RuntimeError as their context.
    in_loop = True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    if not in_loop and not plan.remote:
        # Local models only: run right here, no network stack, no thread hop.
        return asyncio.run(coro)
    # Remote providers, or called from inside a running event loop (a notebook): bm25x's own
    # long-lived loop, where the pooled client (or the caller's) keeps its connections.
    from bm25x.providers._clients import run_shared

    return run_shared(coro)


def _prepare(
    items: Any,
    model: str | None,
    options: Mapping[str, Any] | None,
    query: bool,
    cloud: Cloud,
    headers: Mapping[str, str] | None,
    max_concurrency: int | None,
    fetch_policy: FetchPolicy | None,
    http_client: Any,
    deadline: float | None,
    usage: Usage | None,
) -> tuple[Plan, Coroutine[Any, Any, Any]]:
    """Check the call's arguments and plan it (steps 1 to 3), for :func:`embed` and
    :func:`aembed` alike; returns the plan and the not yet started coroutine that runs it."""
    check_call(cloud, max_concurrency, deadline, fetch_policy, http_client)
    if usage is not None and not isinstance(usage, Usage):
        raise TypeError(f"usage must be a bm25x.Usage or None, got {type(usage).__name__}")
    collected = collect_headers(headers)
    plan = make_plan(items, model, options, query, cloud, max_concurrency)
    policy = fetch_policy or DEFAULT_FETCH_POLICY
    return plan, execute(plan, collected, policy, deadline, http_client, usage)


async def execute(
    plan: Plan,
    headers: dict[str, str],
    fetch_policy: FetchPolicy,
    deadline: float | None,
    http_client: Any,
    usage: Usage | None = None,
) -> Any:
    """Run a plan (steps 4 and 5 of the module's list) and return what embed returns; fill
    ``usage`` with the tokens counted (also when some items failed)."""
    end = time.monotonic() + deadline if deadline is not None else None
    errors = await run(plan, headers, fetch_policy, end, deadline, http_client, usage is not None)
    if usage is not None:
        failed = {i for e in errors for i in e.items}
        tokens = [None if i in failed else n for i, n in enumerate(plan.tokens)]
        usage.fill(tokens, plan.names)
    return finish(plan, errors)
