"""qdrant-client integration: ``models.Document`` objects for ``qdrant/bm25`` (Qdrant's server
flavour) and ``Qdrant/bm25`` (the fastembed flavour: fastembed's Python ``Bm25``) are encoded
by bm25x on the client, wherever qdrant-client takes a vector, before the request leaves the
process.

    from qdrant_client import QdrantClient, models
    import bm25x.qdrant

    client = bm25x.qdrant.wrap(QdrantClient(":memory:"))   # or bm25x.qdrant.Client(url=...)
    client.create_collection_for("docs", {"bm25": "qdrant/bm25"})
    client.upsert("docs", [models.PointStruct(
        id=1, vector={"bm25": models.Document(text="Baking cookies", model="qdrant/bm25")})])
    client.query_points("docs", query=models.Document(text="cookies", model="qdrant/bm25"),
                        using="bm25")

Documents of other models (and images) are handed on untouched, for qdrant-client's own
inference or for the server's; with ``cloud_inference=True`` the client leaves everything to
the server. Which items bm25x embeds is decided by one function, the ``resolver``
(:func:`resolve_bm25` by default), so a resolver serving more models plugs in unchanged.

Options of a remote client's ``qdrant/bm25`` Documents are read as the server reads them
(server mode, :func:`server_options`): a key the server ignores is ignored, a ``language`` it
does not know means ``"none"``, and each such option is reported once per process with a
:class:`bm25x.errors.ServerOptionWarning`; ``strict_options=True`` refuses them instead
(:class:`bm25x.OptionError`). :class:`bm25x.Bm25` itself stays strict.

A vector that ``bm25x backfill`` filled has a record in the collection's metadata
(``bm25x_vector:NAME``: model, flavour, options); bm25 Documents for that vector, in queries
and in new points alike, are encoded with the recorded flavour and options, so they match the
stored points whichever client (remote or local mode) sends them. The metadata is read once
per collection and client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload

# First, so that without qdrant-client the error says which extra to install.
try:
    from qdrant_client import AsyncQdrantClient, QdrantClient, models
except ImportError as _e:  # pragma: no cover - exercised only without qdrant-client
    raise ImportError(
        "bm25x.qdrant needs qdrant-client: pip install 'bm25x-sparse[qdrant]'"
    ) from _e

from bm25x._ids import point_id
from bm25x._qdrant_async import AsyncClient
from bm25x._qdrant_core import (
    ClientCore,
    Resolver,
    collection_config,
    is_local_mode,
    resolve_bm25,
)
from bm25x._server_options import server_options
from bm25x.errors import VectorSizeError
from bm25x.providers.bm25 import BM25_MODELS, bm25_flavor, client_flavor

__all__ = [
    "BM25_MODELS",
    "AsyncClient",
    "Client",
    "Resolver",
    "VectorSizeError",
    "bm25_flavor",
    "client_flavor",
    "collection_config",
    "is_local_mode",
    "point_id",
    "resolve_bm25",
    "server_options",
    "wrap",
]


class Client(ClientCore[QdrantClient]):
    """A qdrant-client ``QdrantClient`` that encodes bm25 ``Document``s itself.

    ``Client(...)`` takes qdrant-client's arguments (``":memory:"``, ``path=``, ``url=``,
    ``api_key=``, ``cloud_inference=``, ...) plus bm25x's: ``resolver`` (which items bm25x
    embeds, :func:`resolve_bm25` by default), ``store_text`` (copy each point's document
    text into its payload: ``True`` for the key ``"text"``, or a key; off by default, as in
    Qdrant) and ``strict_options`` (for a remote client, refuse with
    :class:`bm25x.OptionError` the ``qdrant/bm25`` options the server accepts silently but
    reads otherwise, instead of encoding them as the server does with a
    :class:`bm25x.errors.ServerOptionWarning`; ``warnings.simplefilter("error",
    ServerOptionWarning)`` makes the warning itself an error). Every other method and
    attribute is the wrapped client's."""

    _wrapped_type = QdrantClient

    def __repr__(self) -> str:
        return f"bm25x.qdrant.Client({self.client!r})"

    # --- what resolution reads of a collection, with plain calls ----------------------------

    def _collection_metadata(self, collection: str) -> Any:
        return self._records.get(self.client, collection)

    def _check_idf(self, collection: str, vector_name: str) -> None:
        """Warn once per collection and vector when bm25 vectors go into a sparse vector
        without the IDF modifier."""
        self._idf.check(self.client, collection, vector_name, stacklevel=6)

    def _collection_sizes(self, collection: str) -> dict[str, int]:
        sizes = self._sizes.get(collection)
        if sizes is None:
            vectors = self.client.get_collection(collection).config.params.vectors
            if isinstance(vectors, models.VectorParams):
                sizes = {"": vectors.size}
            else:
                sizes = {k: v.size for k, v in (vectors or {}).items()}
            self._sizes[collection] = sizes
        return sizes

    # --- collections ------------------------------------------------------------------------

    def create_collection_for(
        self,
        collection_name: str,
        vectors: Mapping[str, str],
        *,
        sizes: Mapping[str, int] | None = None,
        distance: models.Distance = models.Distance.COSINE,
        **kwargs: Any,
    ) -> bool:
        """Create a collection whose vectors fit their models: ``vectors`` maps vector names to
        model names (see :func:`collection_config`); other keyword arguments go to
        ``create_collection``."""
        self._forget(collection_name)
        config = collection_config(vectors, sizes=sizes, distance=distance)
        return bool(self.client.create_collection(collection_name, **config, **kwargs))

    def create_collection(self, collection_name: str, *args: Any, **kwargs: Any) -> bool:
        """qdrant-client's ``create_collection``."""
        self._forget(collection_name)
        return bool(self.client.create_collection(collection_name, *args, **kwargs))

    def recreate_collection(self, collection_name: str, *args: Any, **kwargs: Any) -> bool:
        """qdrant-client's ``recreate_collection``."""
        self._forget(collection_name)
        return bool(self.client.recreate_collection(collection_name, *args, **kwargs))

    def delete_collection(self, collection_name: str, *args: Any, **kwargs: Any) -> bool:
        """qdrant-client's ``delete_collection``."""
        self._forget(collection_name)
        return bool(self.client.delete_collection(collection_name, *args, **kwargs))

    # --- writes -----------------------------------------------------------------------------

    def upsert(self, collection_name: str, points: Any, *args: Any, **kwargs: Any) -> Any:
        """qdrant-client's ``upsert``, with documents resolved."""
        return self.client.upsert(
            collection_name, self._points(points, collection_name), *args, **kwargs
        )

    def update_vectors(
        self, collection_name: str, points: Sequence[models.PointVectors], *args: Any, **kw: Any
    ) -> Any:
        """qdrant-client's ``update_vectors``, with documents resolved."""
        if isinstance(points, models.PointVectors):
            raise TypeError("points must be a list of models.PointVectors; wrap it: [point]")
        resolved = self._resolve(list(points), False, collection_name)
        return self.client.update_vectors(collection_name, resolved, *args, **kw)

    def upload_points(
        self,
        collection_name: str,
        points: Iterable[models.PointStruct],
        batch_size: int = 64,
        parallel: int = 1,
        *args: Any,
        **kw: Any,
    ) -> None:
        """qdrant-client's ``upload_points``, with documents resolved in chunks as the points
        stream by. A chunk is encoded before any of it is sent, so a point that cannot be
        encoded stops the upload with :class:`bm25x.errors.PartialUploadError`, which names
        the point and how many points before it were written (with ``parallel=1``, each chunk
        is uploaded before the next is encoded, so that count is exact)."""
        self._upload_points(collection_name, points, batch_size, parallel, *args, **kw)

    def upload_collection(
        self,
        collection_name: str,
        vectors: Any,
        payload: Iterable[dict[Any, Any]] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """qdrant-client's ``upload_collection``, with documents resolved in chunks."""
        self._upload_collection(collection_name, vectors, payload, *args, **kwargs)

    # --- queries ----------------------------------------------------------------------------

    def query_points(
        self,
        collection_name: str,
        query: Any = None,
        using: str | None = None,
        prefetch: Any = None,
        **kwargs: Any,
    ) -> Any:
        """qdrant-client's ``query_points``, with documents in ``query`` and (nested)
        ``prefetch`` resolved as queries."""
        query, prefetch = self._resolve_query(collection_name, query, using, prefetch)
        return self.client.query_points(
            collection_name, query, using=using, prefetch=prefetch, **kwargs
        )

    def query_points_groups(
        self,
        collection_name: str,
        group_by: str,
        query: Any = None,
        using: str | None = None,
        prefetch: Any = None,
        **kwargs: Any,
    ) -> Any:
        """qdrant-client's ``query_points_groups``, with documents resolved as queries."""
        query, prefetch = self._resolve_query(collection_name, query, using, prefetch)
        return self.client.query_points_groups(
            collection_name, group_by, query, using=using, prefetch=prefetch, **kwargs
        )

    def query_batch_points(
        self, collection_name: str, requests: Sequence[models.QueryRequest], *args: Any, **kw: Any
    ) -> Any:
        """qdrant-client's ``query_batch_points``, with documents resolved as queries."""
        resolved = self._resolve(list(requests), True, collection_name)
        return self.client.query_batch_points(collection_name, resolved, *args, **kw)


@overload
def wrap(
    client: QdrantClient,
    *,
    resolver: Resolver | None = None,
    store_text: bool | str = False,
    strict_options: bool = False,
) -> Client: ...
@overload
def wrap(
    client: AsyncQdrantClient,
    *,
    resolver: Resolver | None = None,
    store_text: bool | str = False,
    strict_options: bool = False,
) -> AsyncClient: ...
def wrap(
    client: QdrantClient | AsyncQdrantClient,
    *,
    resolver: Resolver | None = None,
    store_text: bool | str = False,
    strict_options: bool = False,
) -> Client | AsyncClient:
    """Wrap an existing ``QdrantClient`` or ``AsyncQdrantClient`` (local mode or remote) so
    that bm25 ``Document``s are encoded by bm25x. See :class:`Client` and
    :class:`AsyncClient` (the same methods, awaited).

    For a remote client, ``qdrant/bm25`` options are read as the server reads them: an
    option the server accepts silently but reads otherwise (``{"language": "German"}`` is
    ``"none"`` to it; ``{"avglen": 5}`` is ignored) gives the server's vectors and a
    :class:`bm25x.errors.ServerOptionWarning` once per distinct problem per process.
    ``strict_options=True`` raises :class:`bm25x.OptionError` instead; so does
    ``warnings.simplefilter("error", bm25x.errors.ServerOptionWarning)``, with the warning
    itself as the error.

    >>> client = wrap(QdrantClient(":memory:"))
    >>> client.create_collection_for("docs", {"bm25": "qdrant/bm25"})
    True
    >>> doc = models.Document(text="Baking cookies", model="qdrant/bm25")
    >>> client.upsert("docs", [models.PointStruct(id=1, vector={"bm25": doc})]).status.value
    'completed'
    """
    if isinstance(client, AsyncQdrantClient):
        return AsyncClient(
            client=client, resolver=resolver, store_text=store_text, strict_options=strict_options
        )
    return Client(
        client=client, resolver=resolver, store_text=store_text, strict_options=strict_options
    )
