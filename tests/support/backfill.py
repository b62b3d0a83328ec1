"""Collections for the backfill tests, built alike in an Edge shard and on the REST stand-in of
a Qdrant server (:class:`support.local_qdrant.LocalQdrant`), and read back byte for byte.

A :class:`Where` is one collection: how the command names it (``argv``), how the library
names it (``target``), and how to build it and take a snapshot of every point.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bm25x._ids import point_id
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.corpus import read_docs

__all__ = ["Point", "Where", "docs", "letters", "points_of", "where"]

DENSE = "dense"


def docs() -> list[Any]:
    """The sample corpus (92 documents)."""
    return list(read_docs(sample_corpus()))


def letters(text: str) -> list[float]:
    """A deterministic 8-dimensional 'dense vector' of a text (letter counts in 8 buckets)."""
    out = [0.01] * 8
    for ch in text.lower():
        if ch.isalpha():
            out[ord(ch) % 8] += 1.0
    return out


@dataclass
class Point:
    id: int | str
    vectors: dict[str, Any]
    """Dense: a list of floats; sparse: ``(indices, values)``."""
    payload: dict[str, Any]


def points_of(texts: Sequence[Any], *, sparse: Any = None) -> list[Point]:
    """A point per document: a dense vector ``dense`` (:func:`letters`), and with ``sparse``
    (an encoder) a sparse vector ``bm25`` too; payload ``doc_id`` and ``text``. Ids: every
    fifth document an integer, the rest UUIDs (both kinds of id, in Qdrant's order)."""
    out = []
    for i, doc in enumerate(texts):
        pid: int | str = i if i % 5 == 0 else point_id(doc.id)
        vectors: dict[str, Any] = {DENSE: letters(doc.text)}
        if sparse is not None:
            vec = sparse.encode(doc.text)
            vectors["bm25"] = (vec.indices.tolist(), vec.values.tolist())
        out.append(Point(pid, vectors, {"doc_id": doc.id, "text": doc.text}))
    return out


def _canonical_id(value: Any) -> int | str:
    return value if isinstance(value, int) else str(uuid.UUID(str(value)))


def _canonical_vector(value: Any) -> tuple[bytes, ...]:
    if hasattr(value, "indices"):
        value = (list(value.indices), list(value.values))
    if isinstance(value, tuple):
        ind = np.asarray(value[0], dtype=np.uint32)
        val = np.asarray(value[1], dtype=np.float32)
        order = np.argsort(ind, kind="stable")
        return ind[order].tobytes(), val[order].tobytes()
    return (np.asarray(value, dtype=np.float32).tobytes(),)


def sparse_bytes(vector: Any) -> tuple[bytes, ...]:
    """A bm25x ``SparseVector`` as :meth:`Where.snapshot` shows a stored sparse vector."""
    return _canonical_vector((vector.indices.tolist(), vector.values.tolist()))


@dataclass
class Where:
    """One collection, in an Edge shard (``path``) or on a stand-in server (``server``)."""

    kind: str
    path: Path | None = None
    server: Any = None
    name: str = "docs"

    @property
    def argv(self) -> list[str]:
        if self.kind == "edge":
            return ["--store", str(self.path)]
        return ["--url", self.server.url, "--collection", self.name]

    @property
    def target(self) -> dict[str, Any]:
        """``backfill``'s keyword arguments naming the collection."""
        if self.kind == "edge":
            return {"store": self.path}
        return {"url": self.server.url, "collection": self.name}

    def client(self) -> Any:
        from qdrant_client import QdrantClient

        return QdrantClient(url=self.server.url, check_compatibility=False)

    def create(self, points: Sequence[Point], sparse: Sequence[str] = ()) -> None:
        """The collection: a dense vector ``dense`` of size 8 (Cosine), the sparse vectors
        ``sparse`` (IDF modifier), and ``points``."""
        if self.kind == "edge":
            self._create_edge(points, sparse)
        else:
            self._create_server(points, sparse)

    def _create_edge(self, points: Sequence[Point], sparse: Sequence[str]) -> None:
        import qdrant_edge as qe

        config = qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=8, distance=qe.Distance.Cosine)},
            sparse_vectors={n: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf) for n in sparse},
        )
        assert self.path is not None
        shard = qe.EdgeShard.create(str(self.path), config)

        def vectors(p: Point) -> dict[str, Any]:
            return {
                k: qe.SparseVector(*v) if isinstance(v, tuple) else v for k, v in p.vectors.items()
            }

        rows = [qe.Point(p.id, vectors(p), p.payload) for p in points]
        shard.update(qe.UpdateOperation.upsert_points(rows))
        shard.flush()
        shard.close()

    def _create_server(self, points: Sequence[Point], sparse: Sequence[str]) -> None:
        from qdrant_client import models

        client = self.client()
        client.create_collection(
            self.name,
            vectors_config={DENSE: models.VectorParams(size=8, distance=models.Distance.COSINE)},
            sparse_vectors_config={
                n: models.SparseVectorParams(modifier=models.Modifier.IDF) for n in sparse
            },
        )

        def vectors(p: Point) -> dict[str, Any]:
            return {
                k: models.SparseVector(indices=v[0], values=v[1]) if isinstance(v, tuple) else v
                for k, v in p.vectors.items()
            }

        client.upsert(
            self.name,
            [models.PointStruct(id=p.id, vector=vectors(p), payload=p.payload) for p in points],
        )
        client.close()

    def set_payload(self, pid: int | str, payload: dict[str, Any]) -> None:
        """Set keys of one point's payload."""
        if self.kind == "edge":
            import qdrant_edge as qe

            assert self.path is not None
            shard = qe.EdgeShard.load(str(self.path))
            shard.update(qe.UpdateOperation.set_payload([pid], payload))
            shard.flush()
            shard.close()
            return
        client = self.client()
        client.set_payload(self.name, payload, points=[pid])
        client.close()

    def _records(self) -> Iterator[Any]:
        if self.kind == "edge":
            import qdrant_edge as qe

            assert self.path is not None
            shard = qe.EdgeShard.load(str(self.path))
            try:
                points, _ = shard.scroll(
                    qe.ScrollRequest(limit=100_000, with_payload=True, with_vector=True)
                )
            finally:
                shard.close()
            yield from points
            return
        client = self.client()
        points, _ = client.scroll(self.name, limit=100_000, with_payload=True, with_vectors=True)
        client.close()
        yield from points

    def snapshot(self) -> dict[int | str, dict[str, Any]]:
        """Every point: its payload (as sorted JSON) and each vector as bytes (float32 values,
        uint32 indices, sparse vectors sorted by index)."""
        out = {}
        for r in self._records():
            vectors = r.vector or {}
            out[_canonical_id(r.id)] = {
                "payload": json.dumps(r.payload, sort_keys=True),
                "vectors": {k: _canonical_vector(v) for k, v in vectors.items()},
            }
        return out

    def metadata(self) -> dict[str, Any]:
        if self.kind == "edge":
            assert self.path is not None
            file = self.path / "bm25x-metadata.json"
            return json.loads(file.read_text()) if file.exists() else {}
        client = self.client()
        try:
            return dict(client.get_collection(self.name).config.metadata or {})
        finally:
            client.close()


def where(kind: str, tmp_path: Path, server: Any = None, name: str = "docs") -> Where:
    """A collection of ``kind`` (``"edge"`` or ``"server"``), not yet created."""
    if kind == "edge":
        return Where("edge", path=tmp_path / name)
    return Where("server", server=server, name=name)
