"""Does a Qdrant sparse vector carry the IDF modifier? Checked once per collection and vector
name, with one :class:`~bm25x.errors.MissingIdfWarning` when it does not.

Used by the qdrant-client wrapper and by the framework adapters; works on any object with
qdrant-client's ``get_collection`` (sync) or awaitable ``get_collection`` (async).
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

from bm25x.errors import MissingIdfWarning

__all__ = ["IdfCheck", "has_idf"]


def has_idf(collection_info: Any, vector_name: str) -> bool | None:
    """True/False when ``vector_name`` is a sparse vector of the collection (described by
    qdrant-client's ``CollectionInfo``) with/without the IDF modifier; None when the
    collection has no sparse vector of that name."""
    sparse = collection_info.config.params.sparse_vectors or {}
    params = sparse.get(vector_name)
    if params is None:
        return None
    modifier = getattr(params, "modifier", None)
    return str(getattr(modifier, "value", modifier)).lower() == "idf"


def missing_idf_message(collection: str, vector_name: str) -> str:
    """The text of the warning."""
    return (
        f"sparse vector {vector_name!r} of collection {collection!r} has no IDF modifier, so "
        f"Qdrant scores BM25 vectors by term frequency alone; create it with "
        f"models.SparseVectorParams(modifier=models.Modifier.IDF)"
    )


class IdfCheck:
    """Remembers which (collection, vector) pairs were checked, so each is looked up and
    warned about at most once. ``forget(collection)`` after (re)creating a collection."""

    def __init__(self) -> None:
        self._done: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def forget(self, collection: str) -> None:
        """Check ``collection`` again next time (it was created, recreated or deleted)."""
        with self._lock:
            self._done = {key for key in self._done if key[0] != collection}

    def _todo(self, collection: str, vector_name: str) -> bool:
        with self._lock:
            if (collection, vector_name) in self._done:
                return False
            self._done.add((collection, vector_name))
            return True

    def seen(self, collection: str, vector_name: str, info: Any, stacklevel: int = 3) -> None:
        """Check an already fetched ``CollectionInfo`` (once per pair)."""
        if self._todo(collection, vector_name):
            self._warn_if_missing(collection, vector_name, info, stacklevel + 1)

    def flag(self, collection: str, vector_name: str, idf: bool, stacklevel: int = 3) -> None:
        """Warn once per pair when a store's own setting says the vector lacks IDF."""
        if not idf and self._todo(collection, vector_name):
            warnings.warn(
                missing_idf_message(collection, vector_name),
                MissingIdfWarning,
                stacklevel=stacklevel + 1,
            )

    def check(self, client: Any, collection: str, vector_name: str, stacklevel: int = 3) -> None:
        """Fetch the collection through a sync client (once per pair) and warn if the sparse
        vector lacks IDF. A collection that does not exist yet is not remembered."""
        with self._lock:
            if (collection, vector_name) in self._done:
                return
        try:
            info = client.get_collection(collection)
        except Exception:  # absent collection: the caller's own request will say so
            return
        self.seen(collection, vector_name, info, stacklevel + 1)

    async def acheck(
        self, client: Any, collection: str, vector_name: str, stacklevel: int = 3
    ) -> None:
        """:meth:`check` through an ``AsyncQdrantClient``."""
        with self._lock:
            if (collection, vector_name) in self._done:
                return
        try:
            info = await client.get_collection(collection)
        except Exception:
            return
        self.seen(collection, vector_name, info, stacklevel + 1)

    @staticmethod
    def _warn_if_missing(collection: str, vector_name: str, info: Any, stacklevel: int) -> None:
        if has_idf(info, vector_name) is False:
            warnings.warn(
                missing_idf_message(collection, vector_name),
                MissingIdfWarning,
                stacklevel=stacklevel + 1,
            )
