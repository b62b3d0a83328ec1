"""Step 4 of :func:`bm25x.embed`: a plan's batches run concurrently within each provider's
limits and the call's deadline; vectors that are no embedding, or of mixed sizes, become
errors naming their items; results go back in input order (copies for repeated inputs)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from bm25x._aio import fail_after
from bm25x._embed.plan import Group, Plan
from bm25x._embed.usage import share
from bm25x._sparse import SparseVector
from bm25x.errors import (
    InferenceError,
    ProviderDimensionError,
    ProviderHTTPError,
    ProviderResponseError,
)
from bm25x.providers._base import Call, EmbedRequest, Item, Vector, vector_problem
from bm25x.providers._fetch import FetchPolicy

__all__ = ["run"]

DIMENSION_OPTIONS = ("dimensions", "output_dimension")


def copy_vector(vector: Vector) -> Vector:
    if isinstance(vector, SparseVector):
        return SparseVector(vector.indices.copy(), vector.values.copy())
    if isinstance(vector, list):
        return [np.array(row, dtype=np.float32) for row in vector]
    return np.array(vector, dtype=np.float32)


def check_dims(group: Group, vectors: list[Vector]) -> None:
    dense = [v for v in vectors if isinstance(v, np.ndarray)]
    if not dense:
        return
    sizes = {int(v.shape[0]) for v in dense}
    want = next(
        (group.options[k] for k in DIMENSION_OPTIONS if isinstance(group.options.get(k), int)),
        None,
    )
    if len(sizes) > 1 or (want is not None and sizes != {want}):
        asked = f", asked for {want}" if want is not None else ""
        raise ProviderDimensionError(
            f"vectors of sizes {sorted(sizes)}{asked}",
            provider=group.provider.name,
            model=group.model,
        )


def connectors(http_client: Any) -> dict[str, Any]:
    """How a Call gets its clients on first use (see :class:`~bm25x.providers.Call`): the
    caller's ``http_client`` for both when it is an ``httpx.AsyncClient``, for :attr:`http`
    only when it is an ``aiohttp.ClientSession``; else bm25x's pooled ones (the call runs on
    bm25x's loop)."""
    import httpx

    from bm25x.providers._clients import shared_client, shared_session

    if isinstance(http_client, httpx.AsyncClient):
        return {"client": http_client}
    if http_client is not None:
        return {"http": http_client, "connect": _no_httpx_client}
    return {"connect": shared_client, "open_http": shared_session}


def _no_httpx_client() -> Any:
    raise TypeError(
        "this provider sends its requests through an httpx.AsyncClient: pass one as "
        "http_client (the aiohttp.ClientSession given serves bm25x's own providers only)"
    )


async def run(
    plan: Plan,
    headers: dict[str, str],
    fetch_policy: FetchPolicy,
    end: float | None,
    deadline: float | None,
    http_client: Any,
    count_tokens: bool = False,
) -> list[InferenceError]:
    groups = plan.groups
    if not groups:
        return []
    semaphores: dict[int, asyncio.Semaphore] = {}
    errors: list[InferenceError] = []
    call = Call(
        query=plan.query,
        headers=headers,
        fetch_policy=fetch_policy,
        deadline=end,
        count_tokens=count_tokens,
        **connectors(http_client),
    )

    async def one(group: Group, start: int, stop: int) -> None:
        sem = semaphores.setdefault(
            id(group.provider),
            asyncio.Semaphore(plan.max_concurrency or max(1, group.provider.max_concurrency)),
        )
        batch = group.unique[start:stop]
        positions = [i for slot in group.positions[start:stop] for i in slot]
        late = False
        try:
            async with fail_after(None if end is None else max(0.0, end - time.monotonic())):
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
            usable = usable_vectors(group, start, vectors, errors)
            positions = [i for slot in usable for i in group.positions[slot]]
            check_dims(group, list(usable.values()))
            group.tokens.update(batch_tokens(getattr(vectors, "tokens", None), batch, start))
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

    tasks = [one(group, start, stop) for group in groups.values() for start, stop in batches(group)]
    if len(tasks) == 1:
        await tasks[0]  # most calls (a query, a one-input request): no task to make and gather
    else:
        await asyncio.gather(*tasks)
    for group in groups.values():
        error = mixed_sizes(group)
        if error is not None:
            errors.append(error)
            continue
        for slot, vector in group.done.items():
            positions = group.positions[slot]
            plan.results[positions[0]] = vector
            for extra in positions[1:]:
                plan.results[extra] = copy_vector(vector)
            count = group.tokens.get(slot)
            if count is not None:
                plan.tokens[positions[0]] = count
                for extra in positions[1:]:
                    plan.tokens[extra] = 0  # embedded (and counted) once
    return errors


def batch_tokens(tokens: Any, batch: list[Item], start: int) -> dict[int, int]:
    """The tokens of a batch's slots from what its provider said (see
    :class:`~bm25x.providers.Embeddings`): one count per item as it is, a count for the batch
    shared out by the items' lengths; nothing when the provider said nothing usable."""
    if isinstance(tokens, bool):
        return {}
    if isinstance(tokens, int):
        if tokens < 0:
            return {}
        weights = [len(it.value) if isinstance(it.value, str) else 1 for it in batch]
        return {start + k: n for k, n in enumerate(share(tokens, weights))}
    if isinstance(tokens, (list, tuple)) and len(tokens) == len(batch):
        if all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in tokens):
            return {start + k: int(n) for k, n in enumerate(tokens)}
    return {}


def batches(group: Group) -> list[tuple[int, int]]:
    """The (start, stop) slices of a group's unique items, one per provider request: at most
    the provider's item limit for the kind (``batch_limit``, ``max_batch``), and at most its
    ``max_batch_bytes`` of text (UTF-8) where it sets one; an item over that alone goes alone
    (the provider says what it makes of it)."""
    provider = group.provider
    limit = max(1, min(provider.batch_limit(group.kind), provider.max_batch))
    budget = getattr(provider, "max_batch_bytes", None)
    n = len(group.unique)
    if not isinstance(budget, int) or budget <= 0:
        return [(start, min(start + limit, n)) for start in range(0, n, limit)]
    out: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, item in enumerate(group.unique):
        value = item.value
        cost = len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 0
        if i > start and (i - start >= limit or size + cost > budget):
            out.append((start, i))
            start, size = i, 0
        size += cost
    if start < n:
        out.append((start, n))
    return out


def usable_vectors(
    group: Group, start: int, vectors: list[Vector], errors: list[InferenceError]
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


def mixed_sizes(group: Group) -> ProviderDimensionError | None:
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
    error = ProviderDimensionError(
        f"vectors of one model differ in size between batches ({described})",
        provider=group.provider.name,
        model=group.model,
    )
    error.with_items([i for slot in group.done for i in group.positions[slot]])
    return error
