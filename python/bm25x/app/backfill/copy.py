"""``--to NEW``: a backfill into a copy of the collection, for servers that cannot add a named
vector to an existing collection (before Qdrant 1.18.0), or to leave the original untouched.

NEW is created on the same server with the source's configuration (vectors, sparse vectors,
sharding and replication numbers, HNSW, optimizer, WAL and quantization settings, metadata,
payload indexes) plus the vector. Each page read from the source is upserted into NEW whole
(id, payload, every vector) as it is read, and the page's new vectors are then written to NEW
as in any backfill, so the checkpoint in NEW's metadata resumes the copy too; the source is
only read. NEW records where it was copied from (``bm25x_copy``); an existing NEW without that
record is never written to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bm25x.app.backfill.errors import BackfillError
from bm25x.app.backfill.model import Encoded, VectorSpec
from bm25x.app.backfill.server import ServerTarget
from bm25x.app.backfill.target import Existing, PointId, Record, Target, normal_id
from bm25x.app.store import Hit

__all__ = ["COPY_KEY", "CopyTarget", "copy_target"]

COPY_KEY = "bm25x_copy"
"""NEW's metadata key naming the collection it copies (and the vector it added)."""


def _diff(model: Any, diff_type: Any) -> Any:
    """A collection's setting (``HnswConfig``) as the creation argument (``HnswConfigDiff``)."""
    if model is None:
        return None
    return diff_type.model_validate(model.model_dump(exclude_none=True))


def _create(source: ServerTarget, new: str, name: str, spec: VectorSpec) -> None:
    from qdrant_client import models

    client = source.client
    info = client.get_collection(source.collection)
    config = info.config
    params = config.params
    if params.sharding_method == models.ShardingMethod.CUSTOM:
        raise BackfillError(
            f"{source.describe()} uses custom sharding (shard keys); --to cannot copy it"
        )
    dense = params.vectors
    sparse = dict(params.sparse_vectors or {})
    if name not in source.vectors():
        if spec.kind == "sparse":
            modifier = models.Modifier.IDF if spec.idf else None
            sparse[name] = models.SparseVectorParams(modifier=modifier)
        elif isinstance(dense, models.VectorParams):
            raise BackfillError(
                f"{source.describe()} has one unnamed dense vector; a second dense vector "
                "needs named vectors: --to cannot add one"
            )
        else:
            assert spec.size is not None
            distance = models.Distance(spec.distance)
            dense = {**(dense or {}), name: models.VectorParams(size=spec.size, distance=distance)}
    metadata = {
        k: v for k, v in (config.metadata or {}).items() if not k.startswith("bm25x_backfill:")
    }
    metadata[COPY_KEY] = {"from": source.collection, "vector": name}
    client.create_collection(
        new,
        vectors_config=dense if dense is not None else {},
        sparse_vectors_config=sparse or None,
        shard_number=params.shard_number,
        replication_factor=params.replication_factor,
        write_consistency_factor=params.write_consistency_factor,
        on_disk_payload=params.on_disk_payload,
        hnsw_config=_diff(config.hnsw_config, models.HnswConfigDiff),
        optimizers_config=_diff(config.optimizer_config, models.OptimizersConfigDiff),
        wal_config=_diff(config.wal_config, models.WalConfigDiff),
        quantization_config=config.quantization_config,
        metadata=metadata,
    )


def _index_payload(source: ServerTarget, new: str) -> None:
    """NEW gets the source's payload indexes (again on a resumed run: creating an index that
    exists is a no-op)."""
    schema = source.client.get_collection(source.collection).payload_schema or {}
    for field, index in schema.items():
        kind = index.params if index.params is not None else index.data_type
        source.client.create_payload_index(new, field, field_schema=kind, wait=True)


def copy_target(source: Target, new: str, name: str, spec: VectorSpec) -> CopyTarget:
    """The copy NEW of ``source`` with the vector ``name``: created, or as an interrupted
    ``--to`` left it."""
    if not isinstance(source, ServerTarget):
        raise BackfillError(
            f"--to copies collections on a Qdrant server; {source.describe()} gets the vector "
            "in place (copy the directory first to keep the original)"
        )
    if new == source.collection:
        raise BackfillError("--to must name another collection than --collection")
    client = source.client
    if client.collection_exists(new):
        mark = (client.get_collection(new).config.metadata or {}).get(COPY_KEY)
        if not isinstance(mark, Mapping) or mark.get("from") != source.collection:
            raise BackfillError(
                f"collection {new!r} exists and is not a copy of {source.collection!r} made by "
                "bm25x backfill; choose another --to name"
            )
    else:
        _create(source, new, name, spec)
    _index_payload(source, new)
    return CopyTarget(source, ServerTarget(client, new, source.url))


class CopyTarget(Target):
    """Reads from ``source``, writes (and records) into ``dest``."""

    def __init__(self, source: ServerTarget, dest: ServerTarget) -> None:
        self.source = source
        self.dest = dest

    def describe(self) -> str:
        return f"{self.dest.describe()} (a copy of collection {self.source.collection!r})"

    def vectors(self) -> dict[str, Existing]:
        return self.dest.vectors()

    def add_vector(self, name: str, spec: VectorSpec) -> None:
        self.dest.add_vector(name, spec)

    def metadata(self) -> dict[str, Any]:
        return self.dest.metadata()

    def save_metadata(self, entries: Mapping[str, Any]) -> None:
        self.dest.save_metadata(entries)

    def scroll(
        self,
        offset: PointId | None,
        limit: int,
        field: str,
        flt: Mapping[str, Any] | None,
        missing: str | None,
    ) -> tuple[list[Record], PointId | None]:
        from qdrant_client import models

        if missing is not None:
            raise BackfillError("--only-missing has no meaning with --to (the copy is new)")
        points, following = self.source.client.scroll(
            self.source.collection,
            scroll_filter=self.source._filter(flt, None),
            limit=limit,
            offset=offset,
            with_payload=True,
            with_vectors=True,
        )
        if points:
            copies = [
                models.PointStruct(id=p.id, vector=p.vector or {}, payload=p.payload)
                for p in points
            ]
            self.dest.client.upsert(self.dest.collection, copies, wait=True)
        records = [(normal_id(p.id), p.payload) for p in points]
        return records, (normal_id(following) if following is not None else None)

    def write(self, ids: Sequence[PointId], name: str, vectors: Encoded) -> None:
        self.dest.write(ids, name, vectors)

    def sample(
        self, n: int, name: str, field: str, flt: Mapping[str, Any] | None
    ) -> list[tuple[PointId, dict[str, Any] | None, Any]]:
        return self.dest.sample(n, name, field, flt)

    def query(self, name: str, vectors: Sequence[Any], limit: int) -> list[list[Hit]]:
        return self.dest.query(name, vectors, limit)

    def count(self, flt: Mapping[str, Any] | None, missing: str | None) -> int:
        return self.source.count(flt, missing)

    def close(self) -> None:
        self.source.close()
