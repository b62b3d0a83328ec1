"""Search: queries against a collection, encoded with the settings it was built with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bm25x.app.ingest import dense_embedder, encoder_from_settings
from bm25x.app.store import Hit, MissingCollection, Store, StoreError

__all__ = ["open_settings", "search"]


def open_settings(store: Store) -> dict[str, Any]:
    """The settings of a finished collection; a clear error when there is none or when its
    ingest did not finish. Holds the store for reading (until ``store.close()``): a running
    ingest is reported as such instead of being read half-written."""
    store.lock(shared=True)
    settings = store.settings()
    if settings is None:
        raise MissingCollection(store.describe())
    if not settings.get("complete"):
        raise StoreError(
            f"the ingest into {store.describe()} did not finish; run the same `bm25x ingest` "
            "command again to resume it"
        )
    return settings


def search(
    store: Store, queries: Sequence[str], *, limit: int = 10, threads: int | None = None
) -> list[list[Hit]]:
    """The top ``limit`` documents for each query: bm25 alone, or bm25 and the dense model
    fused by reciprocal rank fusion when the collection has one."""
    if limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit}")
    settings = open_settings(store)
    encoder = encoder_from_settings(settings, threads)
    sparse = list(encoder.encode_query(list(queries)))
    model = settings.get("dense_model")
    dense = dense_embedder(model)(list(queries), True) if model else None
    return store.query(sparse, dense, limit)
