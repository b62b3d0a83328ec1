"""``bm25x.qdrant.AsyncClient``: the qdrant-client wrapper around an ``AsyncQdrantClient``.

The same methods as :class:`bm25x.qdrant.Client`, awaited. Encoding is the same (sync, in the
resolver; bm25 encoding of a batch releases the GIL and takes milliseconds). What needs the
server (a collection's vector sizes and IDF modifiers) is fetched with an awaited
``get_collection`` before documents are resolved, once per collection.

``upload_points`` and ``upload_collection`` stay plain methods, as in ``AsyncQdrantClient``;
they check sizes and the IDF modifier only for collections an awaited method has seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qdrant_client import AsyncQdrantClient, models

from bm25x._qdrant_core import ClientCore, collection_config

__all__ = ["AsyncClient"]


class AsyncClient(ClientCore[AsyncQdrantClient]):
    """A qdrant-client ``AsyncQdrantClient`` that encodes bm25 ``Document``s itself.

    ``AsyncClient(...)`` takes ``AsyncQdrantClient``'s arguments plus ``resolver``,
    ``store_text`` and ``strict_options`` (see :class:`bm25x.qdrant.Client`)."""

    _wrapped_type = AsyncQdrantClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._infos: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"bm25x.qdrant.AsyncClient({self.client!r})"

    # --- what the sync resolution reads, fetched with awaits ---------------------------------

    async def _prefetch(self, collection: str) -> None:
        if collection in self._infos:
            return
        try:
            info = await self.client.get_collection(collection)
        except Exception:  # absent collection: the request itself will say so
            return
        self._infos[collection] = info
        self._records.seen(collection, info)
        vectors = info.config.params.vectors
        if isinstance(vectors, models.VectorParams):
            self._sizes[collection] = {"": vectors.size}
        else:
            self._sizes[collection] = {k: v.size for k, v in (vectors or {}).items()}

    def _collection_metadata(self, collection: str) -> Any:
        return self._records.cached(collection)

    def _collection_sizes(self, collection: str) -> dict[str, int]:
        return self._sizes.get(collection, {})

    def _check_idf(self, collection: str, vector_name: str) -> None:
        info = self._infos.get(collection)
        if info is not None:
            self._idf.seen(collection, vector_name, info, stacklevel=6)

    def _forget(self, collection_name: str) -> None:
        super()._forget(collection_name)
        self._infos.pop(collection_name, None)

    # --- collections ------------------------------------------------------------------------

    async def create_collection_for(
        self,
        collection_name: str,
        vectors: Mapping[str, str],
        *,
        sizes: Mapping[str, int] | None = None,
        distance: models.Distance = models.Distance.COSINE,
        **kwargs: Any,
    ) -> bool:
        """See :meth:`bm25x.qdrant.Client.create_collection_for`."""
        self._forget(collection_name)
        config = collection_config(vectors, sizes=sizes, distance=distance)
        return bool(await self.client.create_collection(collection_name, **config, **kwargs))

    async def create_collection(self, collection_name: str, *args: Any, **kwargs: Any) -> bool:
        """``AsyncQdrantClient.create_collection``."""
        self._forget(collection_name)
        return bool(await self.client.create_collection(collection_name, *args, **kwargs))

    async def recreate_collection(self, collection_name: str, *args: Any, **kwargs: Any) -> bool:
        """``AsyncQdrantClient.recreate_collection``."""
        self._forget(collection_name)
        return bool(await self.client.recreate_collection(collection_name, *args, **kwargs))

    async def delete_collection(self, collection_name: str, *args: Any, **kwargs: Any) -> bool:
        """``AsyncQdrantClient.delete_collection``."""
        self._forget(collection_name)
        return bool(await self.client.delete_collection(collection_name, *args, **kwargs))

    # --- writes -----------------------------------------------------------------------------

    async def upsert(self, collection_name: str, points: Any, *args: Any, **kwargs: Any) -> Any:
        """``AsyncQdrantClient.upsert``, with documents resolved."""
        await self._prefetch(collection_name)
        resolved = self._points(points, collection_name)
        return await self.client.upsert(collection_name, resolved, *args, **kwargs)

    async def update_vectors(
        self, collection_name: str, points: Sequence[models.PointVectors], *args: Any, **kw: Any
    ) -> Any:
        """``AsyncQdrantClient.update_vectors``, with documents resolved."""
        if isinstance(points, models.PointVectors):
            raise TypeError("points must be a list of models.PointVectors; wrap it: [point]")
        await self._prefetch(collection_name)
        resolved = self._resolve(list(points), False, collection_name)
        return await self.client.update_vectors(collection_name, resolved, *args, **kw)

    def upload_points(
        self,
        collection_name: str,
        points: Iterable[models.PointStruct],
        batch_size: int = 64,
        parallel: int = 1,
        *args: Any,
        **kw: Any,
    ) -> None:
        """``AsyncQdrantClient.upload_points`` (a plain method there too), with documents
        resolved in chunks; see :meth:`bm25x.qdrant.Client.upload_points`."""
        self._upload_points(collection_name, points, batch_size, parallel, *args, **kw)

    def upload_collection(
        self,
        collection_name: str,
        vectors: Any,
        payload: Iterable[dict[Any, Any]] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """``AsyncQdrantClient.upload_collection`` (a plain method there too), with documents
        resolved in chunks."""
        self._upload_collection(collection_name, vectors, payload, *args, **kwargs)

    # --- queries ----------------------------------------------------------------------------

    async def query_points(
        self,
        collection_name: str,
        query: Any = None,
        using: str | None = None,
        prefetch: Any = None,
        **kwargs: Any,
    ) -> Any:
        """``AsyncQdrantClient.query_points``, with documents resolved as queries."""
        await self._prefetch(collection_name)
        query, prefetch = self._resolve_query(collection_name, query, using, prefetch)
        return await self.client.query_points(
            collection_name, query, using=using, prefetch=prefetch, **kwargs
        )

    async def query_points_groups(
        self,
        collection_name: str,
        group_by: str,
        query: Any = None,
        using: str | None = None,
        prefetch: Any = None,
        **kwargs: Any,
    ) -> Any:
        """``AsyncQdrantClient.query_points_groups``, with documents resolved as queries."""
        await self._prefetch(collection_name)
        query, prefetch = self._resolve_query(collection_name, query, using, prefetch)
        return await self.client.query_points_groups(
            collection_name, group_by, query, using=using, prefetch=prefetch, **kwargs
        )

    async def query_batch_points(
        self, collection_name: str, requests: Sequence[models.QueryRequest], *args: Any, **kw: Any
    ) -> Any:
        """``AsyncQdrantClient.query_batch_points``, with documents resolved as queries."""
        await self._prefetch(collection_name)
        resolved = self._resolve(list(requests), True, collection_name)
        return await self.client.query_batch_points(collection_name, resolved, *args, **kw)
