"""What :class:`bm25x.qdrant.Client` and :class:`bm25x.qdrant.AsyncClient` share: the default
resolver (:func:`resolve_bm25`), collection configs for models (:func:`collection_config`),
and :class:`ClientCore`, the base of both clients, with the routing of documents to the
resolver, the caches of what it reads of a collection (vector sizes, IDF modifiers, backfill
records) and the streamed uploads (plain methods in both ``QdrantClient`` and
``AsyncQdrantClient``). It holds no method that talks to the server for itself: what it
reads of a collection comes from the three methods each client implements, with a plain call
(``Client``) or from what an awaited call fetched first (``AsyncClient``).

This module imports neither client's module; each imports it."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np
from qdrant_client import AsyncQdrantClient, QdrantClient, models

from bm25x._idf import IdfCheck
from bm25x._options import options_key
from bm25x._qdrant_walk import (
    INFERENCE_TYPES,
    Found,
    InferenceItem,
    as_qdrant,
    collect,
    dense_size,
    replace,
    text_of,
)
from bm25x._server_options import report, translate
from bm25x._sparse import SparseVector
from bm25x._vector_records import RecordCache, bm25_encoding
from bm25x.errors import PartialUploadError, VectorSizeError
from bm25x.providers.bm25 import bm25_flavor, client_flavor, shared_encoder

if TYPE_CHECKING:
    from bm25x._encoder import Bm25

__all__ = [
    "ClientCore",
    "Resolver",
    "collection_config",
    "is_local_mode",
    "resolve_bm25",
]

C = TypeVar("C", QdrantClient, AsyncQdrantClient)
"""The qdrant-client client a bm25x client wraps."""

Resolver = Callable[[Sequence[InferenceItem], bool], Sequence[Any]]
"""``resolver(items, query) -> one result per item``: a :class:`bm25x.SparseVector`, a dense
vector (numpy array or list of floats), a multivector (list of those), or ``None`` (or the
item itself) to leave the item as it is. ``query`` is True for items in queries."""

_UPLOAD_CHUNK = 256


def is_local_mode(client: Any) -> bool:
    """Whether ``client`` is a qdrant-client in local mode (``":memory:"``, ``path=``), where
    qdrant-client embeds bm25 documents with fastembed instead of sending them to a server."""
    from qdrant_client.local.qdrant_local import QdrantLocal

    return isinstance(getattr(client, "_client", None), QdrantLocal)


def resolve_bm25(
    items: Sequence[InferenceItem],
    query: bool,
    *,
    local: bool = False,
    strict_options: bool = False,
) -> list[SparseVector | None]:
    """The default resolver: encodes ``Document``s of a bm25 model in the flavour qdrant-client
    would have them computed in (:func:`client_flavor`: the server's for a remote client, the
    default; the fastembed flavour, fastembed's Python ``Bm25``, for a local-mode one,
    ``local=True``), in batches, one per flavour and options, and leaves every other item alone
    (``None``). An explicit ``flavor`` option wins.

    For a remote client's server flavour, options are read as the server reads them
    (:func:`server_options`): what the server accepts silently but reads otherwise (an unknown
    key, an unknown ``language``, ...) is encoded as the server encodes it, with a
    :class:`bm25x.errors.ServerOptionWarning` once per distinct problem per process, or
    refused with :class:`bm25x.OptionError` when ``strict_options`` is true. Local mode and an
    explicit ``"flavor": "fastembed"`` keep bm25x's strict options.

    >>> from qdrant_client import models
    >>> from bm25x import Bm25
    >>> doc = models.Document(text="Baking cookies", model="Qdrant/bm25")
    >>> resolve_bm25([doc], False)[0] == Bm25().encode("Baking cookies")
    True
    >>> fastembed_flavour = Bm25(flavor="fastembed")
    >>> resolve_bm25([doc], False, local=True)[0] == fastembed_flavour.encode("Baking cookies")
    True
    """
    out: list[SparseVector | None] = [None] * len(items)
    groups: dict[tuple[str, bytes], list[int]] = {}
    for i, item in enumerate(items):
        flavor = (
            client_flavor(item.model, local=local) if isinstance(item, models.Document) else None
        )
        if flavor is not None:
            groups.setdefault((flavor, options_key(item.options)), []).append(i)
    for (flavor, _), positions in groups.items():
        first = items[positions[0]]
        assert isinstance(first, models.Document)
        enc = _encoder(flavor, first.options, server=not local, strict_options=strict_options)
        texts = [str(items[i].text) for i in positions]  # type: ignore[union-attr]
        batch = enc.encode_query(texts) if query else enc.encode(texts)
        for i, vec in zip(positions, batch):
            out[i] = vec
    return out


def _encoder(flavor: str, options: Any, *, server: bool, strict_options: bool) -> Bm25:
    """The encoder for one group of Documents: in server mode (a remote client's server
    flavour) for the options as the server reads them, reporting what it reads otherwise
    once the options are known to be valid."""
    explicit = options.get("flavor", flavor) if isinstance(options, Mapping) else flavor
    if not (server and flavor == "qdrant" and explicit == "qdrant"):
        return shared_encoder(flavor, options)
    translation = translate(options)
    enc = shared_encoder(flavor, translation.options)
    report(translation.problems, strict=strict_options)
    return enc


def _is_bm25(item: Any) -> bool:
    return isinstance(item, models.Document) and bm25_flavor(item.model) is not None


def _known_size(model: str) -> int | None:
    """A dense model's size from fastembed's model list, when fastembed is installed."""
    try:
        from fastembed import TextEmbedding
    except ImportError:
        return None
    for entry in TextEmbedding.list_supported_models():
        if str(entry.get("model", "")).lower() == model.lower():
            dim = entry.get("dim")
            return int(dim) if dim else None
    return None


def collection_config(
    vectors: Mapping[str, str],
    *,
    sizes: Mapping[str, int] | None = None,
    distance: models.Distance = models.Distance.COSINE,
) -> dict[str, Any]:
    """``create_collection`` arguments for vectors named after the models that fill them:
    a bm25 model gets a sparse vector with the IDF modifier (which Qdrant's BM25 needs);
    any other model a dense vector whose size is ``sizes[model]`` (or ``sizes[name]``), or
    fastembed's size for the model when fastembed is installed.

    >>> collection_config({"bm25": "qdrant/bm25"})["sparse_vectors_config"]["bm25"].modifier
    <Modifier.IDF: 'idf'>
    """
    sizes = dict(sizes or {})
    dense: dict[str, models.VectorParams] = {}
    sparse: dict[str, models.SparseVectorParams] = {}
    for name, model in vectors.items():
        if bm25_flavor(model) is not None:
            sparse[name] = models.SparseVectorParams(modifier=models.Modifier.IDF)
            continue
        size = sizes.get(model, sizes.get(name)) or _known_size(model)
        if size is None:
            raise ValueError(
                f"the size of vector {name!r} (model {model!r}) is unknown; "
                f"pass sizes={{{model!r}: <dimensions>}}"
            )
        dense[name] = models.VectorParams(size=int(size), distance=distance)
    return {"vectors_config": dense, "sparse_vectors_config": sparse}


class ClientCore(ABC, Generic[C]):
    """The base of :class:`bm25x.qdrant.Client` (``C``: ``QdrantClient``) and
    :class:`bm25x.qdrant.AsyncClient` (``AsyncQdrantClient``): everything but the methods
    that send requests, which each client defines (plain or awaited)."""

    _wrapped_type: Any
    """What ``Client(...)`` builds from qdrant-client's arguments."""

    def __init__(
        self,
        *args: Any,
        resolver: Resolver | None = None,
        store_text: bool | str = False,
        strict_options: bool = False,
        client: C | None = None,
        **kwargs: Any,
    ) -> None:
        if client is not None and (args or kwargs):
            raise TypeError("pass either client= or qdrant-client's arguments, not both")
        self.client: C = client if client is not None else self._wrapped_type(*args, **kwargs)
        # By default, bm25 documents get the vectors the wrapped client would have stored.
        self.resolver: Resolver = (
            resolver
            if resolver is not None
            else functools.partial(
                resolve_bm25, local=is_local_mode(self.client), strict_options=strict_options
            )
        )
        if not isinstance(store_text, (bool, str)):
            raise TypeError(f"store_text must be a bool or a payload key, got {store_text!r}")
        self.text_key: str | None = (
            store_text if isinstance(store_text, str) else ("text" if store_text else None)
        )
        self._sizes: dict[str, dict[str, int]] = {}
        self._idf = IdfCheck()
        self._records = RecordCache()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    @property
    def local_resolution(self) -> bool:
        """False when the wrapped client asks Qdrant Cloud to do all inference."""
        return not getattr(self.client, "cloud_inference", False)

    def _resolve(self, obj: Any, query: bool, collection: str, using: str = "") -> Any:
        found: dict[int, Found] = {}
        collect(obj, using, found)
        if not found or not self.local_resolution:
            return obj
        entries = list(found.items())
        results = self.resolver([self._as_recorded(collection, f) for _, f in entries], query)
        if len(results) != len(entries):
            raise ValueError(
                f"the resolver returned {len(results)} results for {len(entries)} items"
            )
        done: dict[int, Any] = {}
        for (key, f), result in zip(entries, results):
            if result is None or isinstance(result, INFERENCE_TYPES):
                continue
            value = as_qdrant(result)
            self._check_size(collection, f, value)
            if not query and isinstance(result, SparseVector) and _is_bm25(f.item):
                self._check_idf(collection, f.name)
            done[key] = value
        return replace(obj, done) if done else obj

    def _as_recorded(self, collection: str, found: Found) -> Any:
        """A bm25 Document for a vector that ``bm25x backfill`` filled, with the flavour and
        options its record names (they win over the Document's: queries and new points are
        encoded as the stored points were); any other item as it is."""
        item = found.item
        if not _is_bm25(item):
            return item
        recorded = bm25_encoding(self._collection_metadata(collection), found.name)
        if recorded is None:
            return item
        flavor, options = recorded
        return item.model_copy(update={"options": {**options, "flavor": flavor}})

    def _check_size(self, collection: str, found: Found, value: Any) -> None:
        size = dense_size(value)
        if size is None:
            return
        expected = self._collection_sizes(collection).get(found.name)
        if expected is not None and expected != size:
            shown = repr(found.name) if found.name else "the default vector"
            raise VectorSizeError(
                f"vector {shown} of collection {collection!r} has size {expected}, but model "
                f"{found.item.model!r} gives vectors of size {size}; create the vector with "
                f"size {size} or choose a model of size {expected}"
            )

    def _with_text(self, point: Any) -> Any:
        """A ``PointStruct`` with its document text copied into the payload (``store_text``)."""
        if self.text_key is None or not isinstance(point, models.PointStruct):
            return point
        found: dict[int, Found] = {}
        collect(point.vector, "", found)
        text = text_of(list(found.values()))
        if text is None:
            return point
        return point.model_copy(update={"payload": {**(point.payload or {}), self.text_key: text}})

    def _batch_with_text(self, batch: models.Batch) -> models.Batch:
        if self.text_key is None:
            return batch
        n = len(batch.ids)
        per_point: list[list[Found]] = [[] for _ in range(n)]
        vectors = batch.vectors
        columns = vectors.items() if isinstance(vectors, dict) else [("", vectors)]
        for name, column in columns:
            for i, value in enumerate(column):
                if isinstance(value, models.Document):
                    per_point[i].append(Found(value, name))
        payloads: list[dict[str, Any] | None] = [None] * n
        if batch.payloads:
            payloads = list(batch.payloads)
        for i, found in enumerate(per_point):
            text = text_of(found)
            if text is not None:
                payloads[i] = {**(payloads[i] or {}), self.text_key: text}
        return batch.model_copy(update={"payloads": payloads})

    def _points(self, points: Any, collection: str) -> Any:
        if isinstance(points, models.Batch):
            return self._resolve(self._batch_with_text(points), False, collection)
        if isinstance(points, (models.PointStruct, models.PointVectors, dict, str, bytes)):
            raise TypeError(
                f"points must be a list of points or a models.Batch, got one "
                f"{type(points).__name__}; wrap it in a list: [point]"
            )
        return self._resolve([self._with_text(p) for p in points], False, collection)

    def _chunks(self, items: Iterable[Any], size: int = _UPLOAD_CHUNK) -> Iterator[list[Any]]:
        it = iter(items)
        while chunk := list(islice(it, size)):
            yield chunk

    def _upload_error(
        self, chunk: list[Any], collection: str, written: int, exact: bool
    ) -> PartialUploadError:
        """Which point of ``chunk`` fails to encode (each is tried alone), as an error."""
        offset, cause = 0, "the chunk could not be encoded"
        for i, point in enumerate(chunk):
            try:
                self._points([point], collection)
            except Exception as e:
                offset, cause = i, f"{type(e).__name__}: {e}"
                break
        index = written + offset
        pid = getattr(chunk[offset], "id", None)
        sent = (
            f"the {written} points before it were written"
            if exact
            else f"at most the {written} points before it were written (parallel upload)"
        )
        return PartialUploadError(
            f"upload_points stopped at point {index} (id {pid!r}): {cause.rstrip('.')}; "
            f"{sent}; nothing from point {written} on was sent. Fix that point and upload "
            f"again from point {written} (writing a point again overwrites it)",
            index=index,
            point_id=pid,
            written=written,
            exact=exact,
        )

    def _resolve_query(
        self, collection: str, query: Any, using: str | None, prefetch: Any
    ) -> tuple[Any, Any]:
        """``query`` (for the vector ``using``) and the (nested) ``prefetch`` with their
        documents resolved as queries."""
        return (
            self._resolve(query, True, collection, using or ""),
            self._resolve(prefetch, True, collection),
        )

    def _forget(self, collection_name: str) -> None:
        """Drop what is cached of a collection (it is being created, recreated or deleted)."""
        self._sizes.pop(collection_name, None)
        self._idf.forget(collection_name)
        self._records.forget(collection_name)

    # --- what resolution reads of a collection: each client's own ---------------------------

    @abstractmethod
    def _collection_metadata(self, collection: str) -> Any:
        """The collection's metadata (backfill records), or None when not known."""

    @abstractmethod
    def _collection_sizes(self, collection: str) -> dict[str, int]:
        """The dense vector sizes of the collection, by vector name (``""``: the default)."""

    @abstractmethod
    def _check_idf(self, collection: str, vector_name: str) -> None:
        """Warn once per collection and vector when bm25 vectors go into a sparse vector
        without the IDF modifier."""

    # --- streamed uploads (plain methods in both qdrant-client clients) ---------------------

    def _upload_points(
        self,
        collection_name: str,
        points: Iterable[models.PointStruct],
        batch_size: int,
        parallel: int,
        *args: Any,
        **kw: Any,
    ) -> None:
        size = batch_size * max(1, _UPLOAD_CHUNK // batch_size)
        written = 0

        def encoded(chunk: list[Any]) -> Any:
            try:
                return self._points(chunk, collection_name)
            except Exception as e:
                raise self._upload_error(chunk, collection_name, written, parallel == 1) from e

        if parallel == 1:
            for chunk in self._chunks(points, size):
                self.client.upload_points(
                    collection_name, encoded(chunk), batch_size, parallel, *args, **kw
                )
                written += len(chunk)
            return

        def stream() -> Iterator[Any]:
            nonlocal written
            for chunk in self._chunks(points, size):
                yield from encoded(chunk)
                written += len(chunk)

        self.client.upload_points(collection_name, stream(), batch_size, parallel, *args, **kw)

    def _upload_collection(
        self,
        collection_name: str,
        vectors: Any,
        payload: Iterable[dict[Any, Any]] | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if isinstance(vectors, (np.ndarray, dict)):
            self.client.upload_collection(collection_name, vectors, payload, *args, **kwargs)
            return
        if self.text_key is not None:
            vectors = list(vectors)
            payloads = list(payload) if payload is not None else [None] * len(vectors)
            with_text: list[dict[Any, Any] | None] = []
            for vector, p in zip(vectors, payloads):
                found: dict[int, Found] = {}
                collect(vector, "", found)
                text = text_of(list(found.values()))
                with_text.append(p if text is None else {**(p or {}), self.text_key: text})
            payload = with_text  # type: ignore[assignment]
        resolved = (
            v
            for chunk in self._chunks(vectors)
            for v in self._resolve(chunk, False, collection_name)
        )
        self.client.upload_collection(collection_name, resolved, payload, *args, **kwargs)
