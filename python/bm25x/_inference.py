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

If some batches fail, :class:`bm25x.PartialInferenceError` names the failed items and keeps
the vectors that were computed; if everything failed for one reason, that error is raised.
A vector that is empty or holds NaN or infinite values fails its item, and vectors of one
model whose sizes differ between batches fail the group (:class:`bm25x.ProviderResponseError`).

Where it runs: calls that need only local models (bm25, fastembed) run in the caller's thread
and never build an HTTP client; calls with remote providers run on bm25x's own event loop with
one pooled client (:mod:`bm25x.providers._clients`), unless the caller passes ``http_client``.
The whole call ends within ``deadline`` seconds.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np

from bm25x import providers as _providers
from bm25x._secrets import remember_secret
from bm25x._sparse import SparseVector
from bm25x.errors import (
    BadInputError,
    DimensionMismatchError,
    InferenceError,
    PartialInferenceError,
    ProviderHTTPError,
    ProviderResponseError,
    Secret,
    UnknownModelError,
)
from bm25x.providers._base import Call, EmbedRequest, Item, Kind, Provider, Vector, vector_problem
from bm25x.providers._fetch import FetchPolicy

if TYPE_CHECKING:
    import httpx

__all__ = ["aembed", "embed"]

Cloud = Union[bool, Literal["fallback"]]

_KIND_FIELDS: tuple[tuple[str, Kind], ...] = (
    ("text", "text"),
    ("image", "image"),
    ("object", "object"),
)
_DIMENSION_OPTIONS = ("dimensions", "output_dimension")


@dataclass
class _Parsed:
    kind: Kind
    value: Any
    model: str
    options: dict[str, Any]


@dataclass
class _Group:
    provider: Provider
    model: str
    kind: Kind
    options: dict[str, Any]
    keys: dict[str, Secret] = field(repr=False)  # API keys: never shown
    unique: list[Item] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    done: dict[int, Vector] = field(default_factory=dict, repr=False)  # slot -> its vector


def _options_dict(options: Any, where: str) -> dict[str, Any]:
    if options is None:
        return {}
    dump = getattr(options, "model_dump", None)  # qdrant_client.models.Bm25Config
    if callable(dump):
        dumped = dump(mode="json", exclude_unset=True, exclude_none=True)
        if isinstance(dumped, dict):
            return {str(k): _mask_key(str(k), v) for k, v in dumped.items()}
    if not isinstance(options, Mapping):
        raise BadInputError(f"{where}: options must be a dict, got {type(options).__name__}")
    return {str(k): _mask_key(str(k), v) for k, v in options.items()}


def _mask_key(name: str, value: Any) -> Any:
    """An API key option's value as a :class:`Secret`, from the moment bm25x reads it, so that
    none of bm25x's own values (and the traceback locals showing them) holds it in clear."""
    if name.lower().endswith("-api-key") and value is not None:
        return remember_secret(str(value))
    return value


def _parse(item: Any, model: str | None, options: Mapping[str, Any] | None, i: int) -> _Parsed:
    where = f"item {i}"
    if isinstance(item, str):
        if model is None:
            raise BadInputError(f"{where} is a str, so embed needs model=...", items=[i])
        _check_text(item, where, i)
        return _Parsed("text", item, model, _options_dict(options, where))
    if isinstance(item, Mapping):
        fields = {k: item.get(k) for k in ("text", "image", "object") if k in item}
        get_model = item.get("model")
        get_options = item.get("options")
    else:
        fields = {k: getattr(item, k) for k in ("text", "image", "object") if hasattr(item, k)}
        get_model = getattr(item, "model", None)
        get_options = getattr(item, "options", None)
    if len(fields) != 1 or not isinstance(get_model, str):
        raise BadInputError(
            f"{where} must be a str, a Document, Image or InferenceObject, or a dict with one "
            f"of 'text', 'image', 'object' and a 'model'; got {type(item).__name__}",
            items=[i],
        )
    ((name, value),) = fields.items()
    kind = dict(_KIND_FIELDS)[name]
    if kind == "text":
        if not isinstance(value, str):
            raise BadInputError(
                f"{where}: text must be a str, got {type(value).__name__}", items=[i]
            )
        _check_text(value, where, i)
    return _Parsed(kind, value, get_model, _options_dict(get_options, where))


def _check_text(text: str, where: str, i: int) -> None:
    """Refuse text that is not valid Unicode (lone surrogates), naming the item, before it
    reaches a provider (which would fail its whole batch)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadInputError(
            f"{where}: text contains a lone surrogate at index {e.start}, which is not valid "
            "Unicode; fix the decoding upstream or clean it with "
            "text.encode('utf-8', 'replace').decode('utf-8')",
            items=[i],
        ) from None


def _passthrough(item: Any, parsed: _Parsed | None) -> Any:
    """The item as Qdrant takes it, for the server to embed."""
    if not isinstance(item, (str, Mapping)) or parsed is None:
        return item
    body: dict[str, Any] = {parsed.kind: parsed.value, "model": parsed.model}
    if parsed.options:
        body["options"] = parsed.options
    try:
        from qdrant_client import models
    except ImportError:
        return body
    if parsed.kind == "text":
        return models.Document(**body)
    if parsed.kind == "image":
        return models.Image(**body)
    return models.InferenceObject(**body)


def _collect_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(
            f"headers must be a dict of header names to values, got {type(headers).__name__}"
        )
    merged: dict[str, str] = {}
    try:
        from qdrant_client.context_headers import get_context_headers
    except ImportError:
        pass
    else:
        merged.update({k.lower(): v for k, v in get_context_headers().items()})
    if headers:
        merged.update({str(k).lower(): v for k, v in headers.items()})
    for name, value in merged.items():
        if name.endswith("-api-key") and isinstance(value, str):
            merged[name] = remember_secret(value)
    return merged


def _value_key(item: Item) -> str:
    value = item.value
    if isinstance(value, str):
        return f"{item.kind}:s:{value}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{item.kind}:b:{bytes(value).hex()}"
    try:
        return f"{item.kind}:j:{json.dumps(value, sort_keys=True)}"
    except (TypeError, ValueError):
        return f"{item.kind}:id:{id(value)}"


def _copy(vector: Vector) -> Vector:
    if isinstance(vector, SparseVector):
        return SparseVector(vector.indices.copy(), vector.values.copy())
    if isinstance(vector, list):
        return [np.array(row, dtype=np.float32) for row in vector]
    return np.array(vector, dtype=np.float32)


def _check_dims(group: _Group, vectors: list[Vector]) -> None:
    dense = [v for v in vectors if isinstance(v, np.ndarray)]
    if not dense:
        return
    sizes = {int(v.shape[0]) for v in dense}
    want = next(
        (group.options[k] for k in _DIMENSION_OPTIONS if isinstance(group.options.get(k), int)),
        None,
    )
    if len(sizes) > 1 or (want is not None and sizes != {want}):
        asked = f", asked for {want}" if want is not None else ""
        raise DimensionMismatchError(
            f"vectors of sizes {sorted(sizes)}{asked}",
            provider=group.provider.name,
            model=group.model,
        )


def _check_mrl(mrl: Any, group_provider: str, model: str, i: int) -> None:
    """Refuse a bad ``mrl`` before anything is sent."""
    if isinstance(mrl, bool) or not isinstance(mrl, int) or mrl < 1:
        raise BadInputError(
            f"mrl must be a positive integer, got {mrl!r}",
            provider=group_provider,
            model=model,
            items=[i],
        )


def _mrl(vector: Vector, mrl: Any, group_provider: str, model: str, i: int) -> Vector:
    _check_mrl(mrl, group_provider, model, i)
    if not isinstance(vector, np.ndarray):
        raise BadInputError(
            "mrl applies to dense vectors only", provider=group_provider, model=model, items=[i]
        )
    if mrl > vector.shape[0]:
        raise DimensionMismatchError(
            f"mrl={mrl} is larger than the model's {vector.shape[0]} dimensions",
            provider=group_provider,
            model=model,
            items=[i],
        )
    return np.array(vector[:mrl], dtype=np.float32)


#: The default of ``deadline=``: seconds an embed call may take in all, retries included.
DEFAULT_DEADLINE = 300.0


@dataclass
class _Plan:
    """A call, parsed and grouped, before anything runs."""

    n: int
    single: bool
    results: list[Any]
    pending: list[int]
    groups: dict[tuple[Any, ...], _Group]
    mrls: dict[int, tuple[Any, str, str]]
    query: bool
    max_concurrency: int | None

    @property
    def remote(self) -> bool:
        """Whether any group may need the network (only providers that say they are local,
        like bm25 and fastembed, are known not to)."""
        return any(not getattr(g.provider, "local", False) for g in self.groups.values())


def _check_call(
    cloud: Any,
    max_concurrency: Any,
    deadline: Any,
    fetch_policy: Any,
    http_client: Any,
) -> None:
    if cloud not in (True, False, "fallback"):
        raise ValueError(f"cloud must be True, False or 'fallback', got {cloud!r}")
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise ValueError(
            f"max_concurrency must be a positive integer or None, got {max_concurrency!r}"
        )
    if deadline is not None and (
        isinstance(deadline, bool)
        or not isinstance(deadline, (int, float))
        or not math.isfinite(deadline)
        or deadline <= 0
    ):
        raise ValueError(f"deadline must be a positive number of seconds or None, got {deadline!r}")
    if fetch_policy is not None and not isinstance(fetch_policy, FetchPolicy):
        raise TypeError(
            "fetch_policy must be a bm25x.providers.FetchPolicy or None, got "
            f"{type(fetch_policy).__name__}"
        )
    if http_client is not None:
        import httpx

        if not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(
                "http_client must be an httpx.AsyncClient or None, got "
                f"{type(http_client).__name__}"
            )


def _plan(
    items: Any,
    model: str | None,
    options: Mapping[str, Any] | None,
    query: bool,
    cloud: Cloud,
    max_concurrency: int | None,
) -> _Plan:
    """Parse, resolve and group every item (steps 1 to 3 of the module's list)."""
    if isinstance(items, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"embed takes str texts, got {type(items).__name__}; decode it first "
            "(or pass an image as {'image': ..., 'model': ...})"
        )
    single = isinstance(items, (str, Mapping)) or any(
        hasattr(items, k) for k in ("text", "image", "object")
    )
    if single:
        seq = [items]
    elif isinstance(items, Iterable):
        seq = list(items)
    else:
        raise TypeError(f"embed takes an item or an iterable of items, got {type(items).__name__}")
    plan = _Plan(len(seq), single, [None] * len(seq), [], {}, {}, query, max_concurrency)
    for i, item in enumerate(seq):
        parsed = _parse(item, model, options, i) if cloud is not True else None
        if parsed is None:
            plan.results[i] = _passthrough(item, _parse(item, model, options, i))
            continue
        try:
            provider, name = _providers.resolve(parsed.model)
        except UnknownModelError as exc:
            if cloud == "fallback":
                plan.results[i] = _passthrough(item, parsed)
                continue
            raise exc.with_items([i]) from None
        opts = dict(parsed.options)
        if "mrl" in opts:
            plan.mrls[i] = (opts.pop("mrl"), provider.name, name)
            _check_mrl(plan.mrls[i][0], provider.name, name, i)
        keys = {k: opts.pop(k) for k in list(opts) if k.lower().endswith("-api-key")}
        gkey = (
            id(provider),
            name,
            parsed.kind,
            json.dumps(opts, sort_keys=True, default=repr),
            tuple(sorted(keys.items())),  # Secret values: masked wherever this key is shown
        )
        group = plan.groups.get(gkey)
        if group is None:
            group = plan.groups[gkey] = _Group(provider, name, parsed.kind, opts, keys)
        it = Item(parsed.kind, parsed.value)
        vkey = _value_key(it)
        slot = group.index.get(vkey)
        if slot is None:
            slot = group.index[vkey] = len(group.unique)
            group.unique.append(it)
            group.positions.append([])
        group.positions[slot].append(i)
        plan.pending.append(i)
    return plan


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
    http_client: httpx.AsyncClient | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
) -> Any:
    """Embed one item or a list of items; the awaitable form of :func:`embed`.

    With ``http_client`` the call runs on the caller's event loop and sends every remote
    request through that client (which bm25x never closes); without it, remote requests run
    on bm25x's own loop with its pooled client, and cancelling the awaiting task cancels them.
    """
    _check_call(cloud, max_concurrency, deadline, fetch_policy, http_client)
    collected = _collect_headers(headers)
    plan = _plan(items, model, options, query, cloud, max_concurrency)
    # The caller's items, options and headers may hold keys in clear; this frame's locals
    # show in capture_locals tracebacks, so they go once bm25x holds its masked copies.
    del items, options, headers
    policy = fetch_policy or FetchPolicy()
    if http_client is not None or not plan.remote:
        return await _execute(plan, collected, policy, deadline, http_client)
    from bm25x.providers._clients import await_shared

    return await await_shared(_execute(plan, collected, policy, deadline, None))


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
    http_client: httpx.AsyncClient | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
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
    ``http_client`` is used for every remote request and never closed by bm25x (otherwise
    bm25x pools one client across calls; local models never create one). ``deadline`` bounds
    the whole call, retries and waits included, in seconds (``None``: no bound); items not
    embedded by then fail with :class:`bm25x.ProviderHTTPError`.

    >>> import bm25x
    >>> v = bm25x.embed("Recipe for baking chocolate chip cookies", model="qdrant/bm25")
    >>> v == bm25x.Bm25().encode("Recipe for baking chocolate chip cookies")
    True
    """
    _check_call(cloud, max_concurrency, deadline, fetch_policy, http_client)
    collected = _collect_headers(headers)
    plan = _plan(items, model, options, query, cloud, max_concurrency)
    del items, options, headers  # may hold keys in clear; see aembed
    policy = fetch_policy or FetchPolicy()
    coro = _execute(plan, collected, policy, deadline, http_client)
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


async def _execute(
    plan: _Plan,
    headers: dict[str, str],
    fetch_policy: FetchPolicy,
    deadline: float | None,
    http_client: httpx.AsyncClient | None,
) -> Any:
    """Run a plan (steps 4 and 5 of the module's list) and return what embed returns."""
    results = plan.results
    end = time.monotonic() + deadline if deadline is not None else None
    errors = await _run(plan, headers, fetch_policy, end, deadline, http_client)
    failed = {i for e in errors for i in e.items}
    for i, (n, provider_name, model_name) in plan.mrls.items():
        if i in failed or results[i] is None:
            continue
        try:
            results[i] = _mrl(results[i], n, provider_name, model_name, i)
        except InferenceError as exc:
            errors.append(exc)
            failed.add(i)
    if errors:
        if failed >= set(plan.pending) and len(errors) == 1:
            raise errors[0]
        for i in failed:
            results[i] = None
        raise PartialInferenceError(errors, results, plan.n)
    return results[0] if plan.single else results


def _connector(http_client: httpx.AsyncClient | None) -> Any:
    """How a Call gets its client on first use: the caller's, else bm25x's pooled one when
    running on bm25x's loop, else (a provider that is local yet asks) the pooled one too."""
    if http_client is not None:
        return lambda: http_client
    from bm25x.providers._clients import shared_client

    return shared_client


async def _run(
    plan: _Plan,
    headers: dict[str, str],
    fetch_policy: FetchPolicy,
    end: float | None,
    deadline: float | None,
    http_client: httpx.AsyncClient | None,
) -> list[InferenceError]:
    groups = plan.groups
    if not groups:
        return []
    import anyio

    semaphores: dict[int, asyncio.Semaphore] = {}
    errors: list[InferenceError] = []
    call = Call(
        query=plan.query,
        headers=headers,
        fetch_policy=fetch_policy,
        deadline=end,
        connect=_connector(http_client),
    )

    async def one(group: _Group, start: int, stop: int) -> None:
        sem = semaphores.setdefault(
            id(group.provider),
            asyncio.Semaphore(plan.max_concurrency or max(1, group.provider.max_concurrency)),
        )
        batch = group.unique[start:stop]
        positions = [i for slot in group.positions[start:stop] for i in slot]
        late = False
        try:
            with anyio.fail_after(None if end is None else max(0.0, end - time.monotonic())):
                async with sem:
                    vectors = await group.provider.embed_batch(
                        EmbedRequest(group.model, batch, group.options, call, group.keys)
                    )
            if not isinstance(vectors, list) or len(vectors) != len(batch):
                got = len(vectors) if isinstance(vectors, list) else type(vectors).__name__
                raise ProviderResponseError(
                    f"provider returned {got} vectors for {len(batch)} items",
                    provider=group.provider.name,
                    model=group.model,
                )
            usable = _usable(group, start, vectors, errors)
            positions = [i for slot in usable for i in group.positions[slot]]
            _check_dims(group, list(usable.values()))
        except TimeoutError:
            late = True
        except InferenceError as exc:
            if exc.provider is None:
                exc.provider = group.provider.name
            if exc.model is None:
                exc.model = group.model
            errors.append(exc.with_items(positions))
            return
        except Exception as exc:  # a provider bug or an unexpected library error
            errors.append(
                InferenceError(
                    f"{type(exc).__name__}: {exc}",
                    provider=group.provider.name,
                    model=group.model,
                ).with_items(positions)
            )
            return
        if late:
            errors.append(
                ProviderHTTPError(
                    f"not embedded within the call's deadline of {deadline:g} s; raise "
                    "embed(deadline=...) or try again later",
                    provider=group.provider.name,
                    model=group.model,
                ).with_items(positions)
            )
            return
        group.done.update(usable)

    tasks = []
    for group in groups.values():
        limit = max(1, min(group.provider.batch_limit(group.kind), group.provider.max_batch))
        for start in range(0, len(group.unique), limit):
            tasks.append(one(group, start, min(start + limit, len(group.unique))))
    await asyncio.gather(*tasks)
    for group in groups.values():
        error = _mixed_sizes(group)
        if error is not None:
            errors.append(error)
            continue
        for slot, vector in group.done.items():
            positions = group.positions[slot]
            plan.results[positions[0]] = vector
            for extra in positions[1:]:
                plan.results[extra] = _copy(vector)
    return errors


def _usable(
    group: _Group, start: int, vectors: list[Vector], errors: list[InferenceError]
) -> dict[int, Vector]:
    """The vectors of a batch by slot, leaving out (as errors naming their items) those that
    are no embedding: empty, or with NaN or infinite values."""
    usable: dict[int, Vector] = {}
    for offset, vector in enumerate(vectors):
        slot = start + offset
        problem = vector_problem(vector)
        if problem is None:
            usable[slot] = vector
            continue
        where = group.positions[slot]
        error = ProviderResponseError(
            f"the vector for item {where[0]} {problem}",
            provider=group.provider.name,
            model=group.model,
        )
        errors.append(error.with_items(where))
    return usable


def _mixed_sizes(group: _Group) -> ProviderResponseError | None:
    """An error when the dense vectors of one group (one model and options, possibly several
    batches) do not all have one size: a model has one size, so the answer is not usable."""
    first: dict[int, int] = {}  # size -> first slot with it
    for slot, vector in sorted(group.done.items()):
        if isinstance(vector, np.ndarray) and vector.ndim == 1:
            first.setdefault(int(vector.shape[0]), slot)
    if len(first) < 2:
        return None
    described = ", ".join(
        f"{size} for item {group.positions[slot][0]}" for size, slot in first.items()
    )
    error = ProviderResponseError(
        f"vectors of one model differ in size between batches ({described})",
        provider=group.provider.name,
        model=group.model,
    )
    error.with_items([i for slot in group.done for i in group.positions[slot]])
    return error
