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
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bm25x import providers as _providers
from bm25x._sparse import SparseVector
from bm25x.errors import (
    BadInputError,
    DimensionMismatchError,
    InferenceError,
    PartialInferenceError,
    ProviderResponseError,
    UnknownModelError,
    remember_secret,
)
from bm25x.providers._base import Call, Item, Kind, Provider, Vector

__all__ = ["aembed", "embed"]

Cloud = bool | Literal["fallback"]

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
    keys: dict[str, str] = field(repr=False)  # API keys: never shown
    unique: list[Item] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)


def _options_dict(options: Any, where: str) -> dict[str, Any]:
    if options is None:
        return {}
    dump = getattr(options, "model_dump", None)  # qdrant_client.models.Bm25Config
    if callable(dump):
        dumped = dump(mode="json", exclude_unset=True, exclude_none=True)
        if isinstance(dumped, dict):
            return dumped
    if not isinstance(options, Mapping):
        raise BadInputError(f"{where}: options must be a dict, got {type(options).__name__}")
    return {str(k): v for k, v in options.items()}


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


async def aembed(
    items: Any,
    *,
    model: str | None = None,
    options: Mapping[str, Any] | None = None,
    query: bool = False,
    cloud: Cloud = False,
    headers: Mapping[str, str] | None = None,
    max_concurrency: int | None = None,
) -> Any:
    """Embed one item or a list of items; the awaitable form of :func:`embed`."""
    collected = _collect_headers(headers)
    return await _aembed(items, model, options, query, cloud, collected, max_concurrency)


async def _aembed(
    items: Any,
    model: str | None,
    options: Mapping[str, Any] | None,
    query: bool,
    cloud: Cloud,
    headers: dict[str, str],
    max_concurrency: int | None,
) -> Any:
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
    results: list[Any] = [None] * len(seq)
    pending: list[int] = []
    groups: dict[tuple[Any, ...], _Group] = {}
    mrls: dict[int, tuple[Any, str, str]] = {}
    for i, item in enumerate(seq):
        parsed = _parse(item, model, options, i) if cloud is not True else None
        if parsed is None:
            results[i] = _passthrough(item, _parse(item, model, options, i))
            continue
        try:
            provider, name = _providers.resolve(parsed.model)
        except UnknownModelError as exc:
            if cloud == "fallback":
                results[i] = _passthrough(item, parsed)
                continue
            raise exc.with_items([i]) from None
        opts = dict(parsed.options)
        if "mrl" in opts:
            mrls[i] = (opts.pop("mrl"), provider.name, name)
            _check_mrl(mrls[i][0], provider.name, name, i)
        keys: dict[str, str] = {
            k: remember_secret(str(opts.pop(k)))
            for k in list(opts)
            if k.lower().endswith("-api-key")
        }
        gkey = (
            id(provider),
            name,
            parsed.kind,
            json.dumps(opts, sort_keys=True, default=repr),
            json.dumps(keys, sort_keys=True),
        )
        group = groups.get(gkey)
        if group is None:
            group = groups[gkey] = _Group(provider, name, parsed.kind, opts, keys)
        it = Item(parsed.kind, parsed.value)
        vkey = _value_key(it)
        slot = group.index.get(vkey)
        if slot is None:
            slot = group.index[vkey] = len(group.unique)
            group.unique.append(it)
            group.positions.append([])
        group.positions[slot].append(i)
        pending.append(i)

    errors = await _run(groups, results, query, headers, max_concurrency)

    failed = {i for e in errors for i in e.items}
    for i, (n, provider_name, model_name) in mrls.items():
        if i in failed or results[i] is None:
            continue
        try:
            results[i] = _mrl(results[i], n, provider_name, model_name, i)
        except InferenceError as exc:
            errors.append(exc)
            failed.add(i)
    if errors:
        if failed >= set(pending) and len(errors) == 1:
            raise errors[0]
        for i in failed:
            results[i] = None
        raise PartialInferenceError(errors, results, len(seq))
    return results[0] if single else results


async def _run(
    groups: Mapping[tuple[Any, ...], _Group],
    results: list[Any],
    query: bool,
    headers: dict[str, str],
    max_concurrency: int | None,
) -> list[InferenceError]:
    if not groups:
        return []
    import httpx

    semaphores: dict[int, asyncio.Semaphore] = {}
    errors: list[InferenceError] = []
    async with httpx.AsyncClient(follow_redirects=True) as client:
        call = Call(query=query, headers=headers, client=client)

        async def one(group: _Group, start: int, stop: int) -> None:
            sem = semaphores.setdefault(
                id(group.provider),
                asyncio.Semaphore(max_concurrency or max(1, group.provider.max_concurrency)),
            )
            batch = group.unique[start:stop]
            positions = [i for slot in group.positions[start:stop] for i in slot]
            try:
                async with sem:
                    vectors = await group.provider.embed_batch(
                        group.model, batch, group.options, call, group.keys
                    )
                if not isinstance(vectors, list) or len(vectors) != len(batch):
                    got = len(vectors) if isinstance(vectors, list) else type(vectors).__name__
                    raise ProviderResponseError(
                        f"provider returned {got} vectors for {len(batch)} items",
                        provider=group.provider.name,
                        model=group.model,
                    )
                _check_dims(group, vectors)
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
            for slot, vector in zip(group.positions[start:stop], vectors):
                results[slot[0]] = vector
                for extra in slot[1:]:
                    results[extra] = _copy(vector)

        tasks = []
        for group in groups.values():
            limit = max(1, min(group.provider.batch_limit(group.kind), group.provider.max_batch))
            for start in range(0, len(group.unique), limit):
                tasks.append(one(group, start, min(start + limit, len(group.unique))))
        await asyncio.gather(*tasks)
    return errors


def embed(
    items: Any,
    *,
    model: str | None = None,
    options: Mapping[str, Any] | None = None,
    query: bool = False,
    cloud: Cloud = False,
    headers: Mapping[str, str] | None = None,
    max_concurrency: int | None = None,
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

    >>> import bm25x
    >>> v = bm25x.embed("Recipe for baking chocolate chip cookies", model="qdrant/bm25")
    >>> v == bm25x.Bm25().encode("Recipe for baking chocolate chip cookies")
    True
    """
    collected = _collect_headers(headers)
    coro = _aembed(items, model, options, query, cloud, collected, max_concurrency)
    # Decided outside any ``except`` block, so that errors do not carry a "no running event
    # loop" RuntimeError as their context.
    in_loop = True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    if not in_loop:
        return asyncio.run(coro)
    # Called from inside a running event loop (a notebook): run on a private loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
