"""What ``bm25x backfill`` records in a collection's metadata about a named vector it filled:
the top-level key ``bm25x_vector:NAME`` holds the model, the bm25 flavour and the options.
Read back wherever vectors for that name are encoded, so that queries and new points are
encoded as the stored points were (the qdrant-client wrapper, ``bm25x search --vector``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["RECORD_PREFIX", "RecordCache", "bm25_encoding", "record_key"]

RECORD_PREFIX = "bm25x_vector:"


def record_key(vector: str) -> str:
    """The metadata key of the record of vector ``vector``."""
    return f"{RECORD_PREFIX}{vector}"


def bm25_encoding(
    metadata: Mapping[str, Any] | None, vector: str
) -> tuple[str, dict[str, Any]] | None:
    """``(flavor, options)`` the bm25 vector ``vector`` was filled with, from a collection's
    metadata; None when it has no record, or a record of another model."""
    record = (metadata or {}).get(record_key(vector))
    if not isinstance(record, Mapping):
        return None
    flavor = record.get("flavor")
    options = record.get("options")
    if flavor not in ("qdrant", "fastembed") or not isinstance(options, Mapping):
        return None
    return str(flavor), dict(options)


class RecordCache:
    """Each collection's metadata, fetched once (``forget`` after the collection is created,
    recreated or deleted); a collection that cannot be fetched is asked again next time."""

    def __init__(self) -> None:
        self._metadata: dict[str, Mapping[str, Any]] = {}
        self._lock = threading.Lock()

    def forget(self, collection: str) -> None:
        with self._lock:
            self._metadata.pop(collection, None)

    def seen(self, collection: str, info: Any) -> None:
        """Keep the metadata of an already fetched ``CollectionInfo``."""
        with self._lock:
            self._metadata[collection] = dict(info.config.metadata or {})

    def get(self, client: Any, collection: str) -> Mapping[str, Any]:
        """The metadata, fetched through a sync client the first time."""
        with self._lock:
            found = self._metadata.get(collection)
        if found is not None:
            return found
        try:
            info = client.get_collection(collection)
        except Exception:  # absent collection: the caller's own request will say so
            return {}
        self.seen(collection, info)
        return dict(info.config.metadata or {})

    def cached(self, collection: str) -> Mapping[str, Any]:
        """The metadata if fetched before, else empty (for an async client, which fetches
        before resolving)."""
        with self._lock:
            return self._metadata.get(collection, {})
