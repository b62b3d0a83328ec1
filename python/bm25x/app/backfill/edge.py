"""An Edge shard as a backfill target: a ``bm25x ingest`` store (``DIR/shard`` beside
``DIR/bm25x.json``) or any qdrant-edge shard directory (``DIR/edge_config.json``).

qdrant-edge adds a named vector to an existing shard (``create_sparse_vector`` /
``create_dense_vector``), so a missing vector is created in place. The metadata a server keeps
with a collection is kept in ``bm25x-metadata.json`` in ``DIR``. The directory is locked
against other bm25x processes for the whole run (:mod:`bm25x.app.lock`), and every operation
on the shard is serialised (encoding, in other threads, runs alongside).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bm25x import SparseBatch
from bm25x.app.backfill.edge_filter import edge_filter
from bm25x.app.backfill.errors import BackfillError
from bm25x.app.backfill.model import Encoded, VectorSpec
from bm25x.app.backfill.target import Existing, PointId, Record, Target, hit, normal_id
from bm25x.app.lock import LockBusy, StoreLock
from bm25x.app.store import Hit

__all__ = ["METADATA_FILE", "EdgeTarget", "shard_dir"]

METADATA_FILE = "bm25x-metadata.json"
_CONFIG = "edge_config.json"


def shard_dir(path: Path) -> Path | None:
    """The shard directory of ``path`` (a bm25x store or a shard itself), or None."""
    if (path / "shard" / _CONFIG).is_file():
        return path / "shard"
    if (path / _CONFIG).is_file():
        return path
    return None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]


class EdgeTarget(Target):
    """The shard at (or in) ``path``, opened and locked for writing (for reading only, with
    ``shared``: other readers may hold it too)."""

    def __init__(self, path: str | os.PathLike[str], shared: bool = False) -> None:
        self.path = Path(path)
        found = shard_dir(self.path)
        if found is None:
            raise BackfillError(
                f"{self.path} is not an Edge shard (no {_CONFIG} in it or in {self.path}/shard)"
            )
        self.shard_path = found
        self._lock = StoreLock(self.path)
        try:
            self._lock.acquire(shared=shared)
        except LockBusy as e:
            holder = f" (process {e.pid})" if e.pid is not None else ""
            raise BackfillError(
                f"{self.path} is in use by another process{holder}; run this again when it "
                "has finished"
            ) from None
        except OSError as e:
            raise BackfillError(f"cannot lock {self.path} for writing ({e})") from None
        self._mutex = threading.Lock()
        try:
            from qdrant_edge import EdgeShard

            self._shard: Any = EdgeShard.load(str(found))
        except Exception as e:
            self._lock.release()
            raise BackfillError(f"cannot open the shard in {found} ({_first_line(e)})") from None

    def describe(self) -> str:
        return f"the Edge shard in {self.path}"

    def _call(self, what: str, call: Any, *args: Any) -> Any:
        with self._mutex:
            try:
                return call(*args)
            except Exception as e:
                if isinstance(e, BackfillError):
                    raise
                raise BackfillError(
                    f"cannot {what} the shard in {self.shard_path} ({_first_line(e)})"
                ) from None

    # --- vectors ---------------------------------------------------------------------------

    def vectors(self) -> dict[str, Existing]:
        config = json.loads((self.shard_path / _CONFIG).read_text(encoding="utf-8"))
        out: dict[str, Existing] = {}
        for name, params in (config.get("vectors") or {}).items():
            multi = params.get("multivector_config") is not None
            out[name] = Existing("dense", size=int(params["size"]), multivector=multi)
        for name, params in (config.get("sparse_vectors") or {}).items():
            modifier = str((params or {}).get("modifier") or "").lower()
            out[name] = Existing("sparse", idf=modifier == "idf")
        return out

    def add_vector(self, name: str, spec: VectorSpec) -> None:
        from qdrant_edge import Distance, Modifier, UpdateOperation

        if spec.kind == "sparse":
            op = UpdateOperation.create_sparse_vector(name, Modifier.Idf if spec.idf else None)
        else:
            assert spec.size is not None
            op = UpdateOperation.create_dense_vector(
                name, spec.size, getattr(Distance, spec.distance)
            )
        self._call("add a vector to", self._shard.update, op)
        self._call("flush", self._shard.flush)

    # --- metadata --------------------------------------------------------------------------

    def _metadata_file(self) -> Path:
        return self.path / METADATA_FILE

    def metadata(self) -> dict[str, Any]:
        file = self._metadata_file()
        try:
            data: Any = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise BackfillError(f"{file}: unreadable ({_first_line(e)})") from None
        if not isinstance(data, dict):
            raise BackfillError(f"{file}: not a JSON object")
        return data

    def save_metadata(self, entries: Mapping[str, Any]) -> None:
        self._call("flush", self._shard.flush)
        merged = {**self.metadata(), **entries}
        file = self._metadata_file()
        tmp = file.with_name(file.name + ".tmp")
        tmp.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, file)

    # --- points ----------------------------------------------------------------------------

    def _filter(self, flt: Mapping[str, Any] | None, missing: str | None) -> Any:
        from qdrant_edge import Filter, HasVectorCondition

        user = edge_filter(flt) if flt else None
        if missing is None:
            return user
        return Filter(
            must=[user] if user is not None else None, must_not=[HasVectorCondition(missing)]
        )

    def scroll(
        self,
        offset: PointId | None,
        limit: int,
        field: str,
        flt: Mapping[str, Any] | None,
        missing: str | None,
    ) -> tuple[list[Record], PointId | None]:
        from qdrant_edge import ScrollRequest

        request = ScrollRequest(
            offset=offset,
            limit=limit,
            filter=self._filter(flt, missing),
            with_payload=[field],
            with_vector=False,
        )
        points, following = self._call("read", self._shard.scroll, request)
        records = [(normal_id(p.id), p.payload) for p in points]
        return records, (normal_id(following) if following is not None else None)

    def write(self, ids: Sequence[PointId], name: str, vectors: Encoded) -> None:
        from qdrant_edge import PointVectors, UpdateOperation
        from qdrant_edge import SparseVector as EdgeSparse

        if isinstance(vectors, SparseBatch):
            ptr = vectors.indptr.tolist()
            ind, val = vectors.indices.tolist(), vectors.values.tolist()
            rows = [
                PointVectors(
                    pid, {name: EdgeSparse(ind[ptr[i] : ptr[i + 1]], val[ptr[i] : ptr[i + 1]])}
                )
                for i, pid in enumerate(ids)
            ]
        else:
            dense = vectors.tolist()
            rows = [PointVectors(pid, {name: dense[i]}) for i, pid in enumerate(ids)]
        self._call("write to", self._shard.update, UpdateOperation.update_vectors(rows))

    def sample(
        self, n: int, name: str, field: str, flt: Mapping[str, Any] | None
    ) -> list[tuple[PointId, dict[str, Any] | None, Any]]:
        from qdrant_edge import Filter, HasVectorCondition, QueryRequest, Sample

        user = edge_filter(flt) if flt else None
        request = QueryRequest(
            limit=n,
            query=Sample.Random,
            filter=Filter(must=[c for c in (user, HasVectorCondition(name)) if c is not None]),
            with_payload=[field],
            with_vector=[name],
        )
        found = self._call("read", self._shard.query, request)
        out: list[tuple[PointId, dict[str, Any] | None, Any]] = []
        for p in found:
            stored = (p.vector or {}).get(name)
            if stored is not None and hasattr(stored, "indices"):
                stored = (list(stored.indices), list(stored.values))
            out.append((normal_id(p.id), p.payload, stored))
        return out

    def query(self, name: str, vectors: Sequence[Any], limit: int) -> list[list[Hit]]:
        from qdrant_edge import Query, QueryBatchRequest, QueryRequest
        from qdrant_edge import SparseVector as EdgeSparse

        requests = []
        for v in vectors:
            if hasattr(v, "indices"):
                target: Any = EdgeSparse(v.indices.tolist(), v.values.tolist())
            else:
                target = [float(x) for x in v]
            requests.append(
                QueryRequest(limit=limit, query=Query.Nearest(target, name), with_payload=True)
            )
        if not requests:
            return []
        found = self._call("search", self._shard.query_batch, QueryBatchRequest(requests))
        return [[hit(p.id, p.score, p.payload) for p in points] for points in found]

    def count(self, flt: Mapping[str, Any] | None, missing: str | None) -> int:
        from qdrant_edge import CountRequest

        request = CountRequest(exact=True, filter=self._filter(flt, missing))
        return int(self._call("count", self._shard.count, request))

    def close(self) -> None:
        try:
            if self._shard is not None:
                shard, self._shard = self._shard, None
                self._call("flush", shard.flush)
                self._call("close", shard.close)
        finally:
            self._lock.release()
