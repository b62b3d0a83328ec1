"""Where collections live: a Qdrant Edge shard in a local directory (the default), or a
Qdrant server or cluster through qdrant-client. Both give the same results for the same data.

A store holds one collection with a sparse vector ``bm25`` (IDF modifier), optionally a dense
vector ``dense``, and the bm25x settings it was built with (options, flavour, models), so that
search encodes queries the same way. Point ids are UUIDs derived from document ids, so writing
a document twice overwrites it instead of duplicating it.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bm25x._sparse import SparseBatch, SparseVector

__all__ = [
    "DENSE",
    "SPARSE",
    "EdgeStore",
    "Hit",
    "QdrantStore",
    "Store",
    "StoreError",
    "point_id",
]

SPARSE = "bm25"
"""Name of the sparse vector in every collection bm25x creates."""
DENSE = "dense"
"""Name of the dense vector, when a dense model is configured."""
RRF_K = 2
"""Reciprocal rank fusion constant (Qdrant's default), set explicitly so both backends agree."""
_NAMESPACE = uuid.UUID("5d0b3f0e-8a4c-5b8e-9a51-62d8f3c0b25a")
_SETTINGS_FILE = "bm25x.json"
_SHARD_DIR = "shard"
_METADATA_KEY = "bm25x"


class StoreError(RuntimeError):
    """A store cannot be created, opened or written; the message says which and why."""


def point_id(doc_id: str) -> str:
    """The point id of a document id: a UUID, the same on every run and every machine."""
    return str(uuid.uuid5(_NAMESPACE, doc_id))


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    """The document id."""
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


Dense = npt.NDArray[np.float32]


class Store(ABC):
    """One collection in some Qdrant: ``settings`` opens an existing one, ``create`` makes a
    fresh one (replacing any), ``save_settings`` records settings (e.g. that an ingest
    finished)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the collection is, for messages."""

    @abstractmethod
    def settings(self) -> dict[str, Any] | None:
        """The recorded bm25x settings, or None when there is no collection yet. Opens it."""

    @abstractmethod
    def create(self, settings: dict[str, Any], dense_size: int | None) -> None:
        """Make a fresh, empty collection (replacing any existing one)."""

    @abstractmethod
    def save_settings(self, settings: dict[str, Any]) -> None:
        """Record new settings atomically, after flushing the writes made so far."""

    @abstractmethod
    def drop(self) -> None:
        """Delete the collection."""

    @abstractmethod
    def existing(self, doc_ids: Sequence[str]) -> set[str]:
        """Which of these documents the collection holds."""

    @abstractmethod
    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
    ) -> None:
        """Write documents (overwriting any with the same id)."""

    @abstractmethod
    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        """Top ``limit`` documents per query; with dense query vectors, both rankings fused by
        reciprocal rank fusion."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the collection holds."""

    @abstractmethod
    def close(self) -> None:
        """Release the collection (flushes writes)."""


def _hit(point: Any) -> Hit:
    payload = dict(point.payload or {})
    return Hit(str(payload.pop("doc_id", point.id)), float(point.score), payload)


class EdgeStore(Store):
    """A Qdrant Edge shard persisted in ``path`` (the shard in ``path/shard``, the settings in
    ``path/bm25x.json``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._shard: Any = None

    def describe(self) -> str:
        return f"Qdrant Edge shard in {self.path}"

    def _is_store(self) -> bool:
        """Whether ``path`` holds a bm25x store; an error when it holds something else."""
        if not self.path.exists():
            return False
        if not self.path.is_dir():
            raise StoreError(f"{self.path} is a file, not a store directory")
        if not (self.path / _SETTINGS_FILE).exists():
            if any(self.path.iterdir()):
                raise StoreError(
                    f"{self.path} exists but is not a bm25x store (no {_SETTINGS_FILE}); "
                    "choose another directory"
                )
            return False
        return True

    def settings(self) -> dict[str, Any] | None:
        if not self._is_store():
            return None
        file = self.path / _SETTINGS_FILE
        try:
            settings: Any = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise StoreError(
                f"{file}: unreadable settings ({e}); rebuild with `bm25x ingest --recreate`"
            ) from None
        if not isinstance(settings, dict):
            raise StoreError(
                f"{file}: not a bm25x settings object; rebuild with `bm25x ingest --recreate`"
            )
        if self._shard is None:
            from qdrant_edge import EdgeShard

            try:
                self._shard = EdgeShard.load(str(self.path / _SHARD_DIR))
            except Exception as e:  # qdrant-edge raises plain Exceptions
                raise StoreError(
                    f"cannot open the shard in {self.path} ({e}); rebuild it with "
                    "`bm25x ingest --recreate`"
                ) from None
        return settings

    def create(self, settings: dict[str, Any], dense_size: int | None) -> None:
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeShard,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            Modifier,
        )

        self._is_store()  # refuses a directory that is not a bm25x store
        self.drop()
        self.path.mkdir(parents=True, exist_ok=True)
        vectors = (
            {DENSE: EdgeVectorParams(size=dense_size, distance=Distance.Cosine)}
            if dense_size
            else None
        )
        config = EdgeConfig(
            vectors=vectors,
            sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        self._shard = EdgeShard.create(str(self.path / _SHARD_DIR), config)
        self.save_settings(settings)

    def save_settings(self, settings: dict[str, Any]) -> None:
        self._open().flush()
        file = self.path / _SETTINGS_FILE
        tmp = file.with_name(file.name + ".tmp")
        tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, file)

    def drop(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        if (self.path / _SETTINGS_FILE).exists():
            shutil.rmtree(self.path)

    def _open(self) -> Any:
        if self._shard is None:
            raise StoreError(f"no collection in {self.path}; run `bm25x ingest` first")
        return self._shard

    def existing(self, doc_ids: Sequence[str]) -> set[str]:
        records = self._open().retrieve(
            [point_id(d) for d in doc_ids], with_payload=["doc_id"], with_vector=False
        )
        return {str((r.payload or {})["doc_id"]) for r in records}

    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
    ) -> None:
        from qdrant_edge import Point, UpdateOperation
        from qdrant_edge import SparseVector as EdgeSparse

        points = []
        for i, (doc_id, payload, vec) in enumerate(zip(doc_ids, payloads, sparse)):
            vector: dict[str, Any] = {SPARSE: EdgeSparse(vec.indices.tolist(), vec.values.tolist())}
            if dense is not None:
                vector[DENSE] = dense[i].tolist()
            points.append(Point(point_id(doc_id), vector, {"doc_id": doc_id, **payload}))
        self._open().update(UpdateOperation.upsert_points(points))

    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        from qdrant_edge import Fusion, Prefetch, Query, QueryBatchRequest, QueryRequest
        from qdrant_edge import SparseVector as EdgeSparse

        requests = []
        for i, vec in enumerate(sparse):
            nearest = Query.Nearest(EdgeSparse(vec.indices.tolist(), vec.values.tolist()), SPARSE)
            if dense is None:
                requests.append(QueryRequest(limit=limit, query=nearest, with_payload=True))
            else:
                prefetches = [
                    Prefetch(limit=limit, query=nearest),
                    Prefetch(limit=limit, query=Query.Nearest(dense[i].tolist(), DENSE)),
                ]
                requests.append(
                    QueryRequest(
                        limit=limit,
                        query=Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]  # stub: Fusion
                        prefetches=prefetches,
                        with_payload=True,
                    )
                )
        if not requests:
            return []
        results = self._open().query_batch(QueryBatchRequest(requests))
        return [[_hit(p) for p in points] for points in results]

    def count(self) -> int:
        from qdrant_edge import CountRequest

        return int(self._open().count(CountRequest(exact=True)))

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None


class QdrantStore(Store):
    """A collection in any Qdrant that qdrant-client reaches: a server or cluster by URL and
    API key, or qdrant-client's local mode. Settings live in the collection's metadata."""

    def __init__(self, client: Any, collection: str) -> None:
        self.client = client
        self.collection = collection

    @classmethod
    def connect(cls, url: str, collection: str, api_key: str | None = None) -> QdrantStore:
        """A store for ``collection`` on the Qdrant at ``url``."""
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise StoreError("--url needs qdrant-client: pip install 'bm25x[qdrant]'") from None
        return cls(QdrantClient(url=url, api_key=api_key), collection)

    def describe(self) -> str:
        return f"collection {self.collection!r}"

    def settings(self) -> dict[str, Any] | None:
        if not self.client.collection_exists(self.collection):
            return None
        metadata = self.client.get_collection(self.collection).config.metadata or {}
        if _METADATA_KEY not in metadata:
            raise StoreError(
                f"collection {self.collection!r} was not created by bm25x (no {_METADATA_KEY!r} "
                "in its metadata); choose another collection name"
            )
        settings: Any = metadata[_METADATA_KEY]
        if not isinstance(settings, dict):
            raise StoreError(
                f"collection {self.collection!r} has malformed bm25x settings; rebuild it "
                "with `bm25x ingest --recreate`"
            )
        return settings

    def create(self, settings: dict[str, Any], dense_size: int | None) -> None:
        from qdrant_client import models

        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)
        vectors = (
            {DENSE: models.VectorParams(size=dense_size, distance=models.Distance.COSINE)}
            if dense_size
            else {}
        )
        self.client.create_collection(
            self.collection,
            vectors_config=vectors,
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={_METADATA_KEY: settings},
        )

    def save_settings(self, settings: dict[str, Any]) -> None:
        self.client.update_collection(self.collection, metadata={_METADATA_KEY: settings})

    def drop(self) -> None:
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)

    def existing(self, doc_ids: Sequence[str]) -> set[str]:
        records = self.client.retrieve(
            self.collection,
            [point_id(d) for d in doc_ids],
            with_payload=["doc_id"],
            with_vectors=False,
        )
        return {str((r.payload or {})["doc_id"]) for r in records}

    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
    ) -> None:
        from qdrant_client import models

        points = []
        for i, (doc_id, payload, vec) in enumerate(zip(doc_ids, payloads, sparse)):
            vector: dict[str, Any] = {
                SPARSE: models.SparseVector(
                    indices=vec.indices.tolist(), values=vec.values.tolist()
                )
            }
            if dense is not None:
                vector[DENSE] = dense[i].tolist()
            points.append(
                models.PointStruct(
                    id=point_id(doc_id), vector=vector, payload={"doc_id": doc_id, **payload}
                )
            )
        self.client.upsert(self.collection, points, wait=True)

    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        from qdrant_client import models

        requests = []
        for i, vec in enumerate(sparse):
            nearest = models.SparseVector(indices=vec.indices.tolist(), values=vec.values.tolist())
            if dense is None:
                requests.append(
                    models.QueryRequest(query=nearest, using=SPARSE, limit=limit, with_payload=True)
                )
            else:
                requests.append(
                    models.QueryRequest(
                        prefetch=[
                            models.Prefetch(query=nearest, using=SPARSE, limit=limit),
                            models.Prefetch(query=dense[i].tolist(), using=DENSE, limit=limit),
                        ],
                        query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                        limit=limit,
                        with_payload=True,
                    )
                )
        if not requests:
            return []
        responses = self.client.query_batch_points(self.collection, requests)
        return [[_hit(p) for p in r.points] for r in responses]

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        pass
