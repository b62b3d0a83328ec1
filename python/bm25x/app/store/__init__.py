"""Where collections live: a Qdrant Edge shard in a local directory (the default), or a
Qdrant server or cluster through qdrant-client. Both give the same results for the same data.

A store holds one collection with a sparse vector ``bm25`` (IDF modifier), optionally a dense
vector ``dense``, and the bm25x settings it was built with (options, flavour, models), so that
search encodes queries the same way. Point ids are UUIDs derived from document ids, so writing
a document twice overwrites it instead of duplicating it.

The code is one module per job: :mod:`~bm25x.app.store.base` (the :class:`Store` interface,
:class:`Hit`), :mod:`~bm25x.app.store.points` (the collection's layout, documents as points),
:mod:`~bm25x.app.store.edge` (:class:`EdgeStore`) with :mod:`~bm25x.app.store.disk` (its files
on disk), and :mod:`~bm25x.app.store.server` (:class:`QdrantStore`).
"""

from __future__ import annotations

from bm25x.app.errors import MissingCollection, StoreError
from bm25x.app.store.base import Dense, Hit, Store
from bm25x.app.store.edge import EdgeStore
from bm25x.app.store.points import (
    DENSE,
    FINGERPRINT,
    SPARSE,
    Keys,
    f32,
    fingerprint,
    fingerprints,
    point_keys_later,
)
from bm25x.app.store.server import QdrantStore, public_url, version_gap
from bm25x.internals import point_id

__all__ = [
    "DENSE",
    "FINGERPRINT",
    "SPARSE",
    "Dense",
    "EdgeStore",
    "Hit",
    "Keys",
    "MissingCollection",
    "QdrantStore",
    "Store",
    "StoreError",
    "f32",
    "fingerprint",
    "fingerprints",
    "point_id",
    "point_keys_later",
    "public_url",
    "version_gap",
]
