"""A collection on a Qdrant server or cluster (or in qdrant-client's local mode) as a backfill
target, through qdrant-client.

Reads are ``scroll`` (``POST /collections/{name}/points/scroll``) with the payload at the field
only; writes are ``update_vectors`` (``PUT /collections/{name}/points/vectors``, ``wait=true``),
which sets one named vector and leaves the point's other vectors and its payload alone; the
record and checkpoints are top-level keys of the collection's metadata (``PATCH
/collections/{name}``, which merges them in). A missing vector is added with ``PUT
/collections/{name}/vectors/{vector}``, which Qdrant has from 1.18.0 (``PATCH`` cannot add
one in any release: it only changes vectors that exist).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bm25x import SparseBatch
from bm25x.app.backfill.errors import BackfillError, CannotAddVector
from bm25x.app.backfill.model import Encoded, VectorSpec
from bm25x.app.backfill.target import Existing, PointId, Record, Target, hit, normal_id
from bm25x.app.store import Hit, public_url

__all__ = ["NAMED_VECTORS_SINCE", "ServerTarget"]

NAMED_VECTORS_SINCE = "1.18.0"
"""The first Qdrant release that adds a named vector to an existing collection."""
COPY_HINT = (
    "; --to NEW fills a copy instead: a new collection NEW with this one's points, payloads "
    "and vectors, and the vector"
)


class ServerTarget(Target):
    """``collection`` through ``client`` (a ``QdrantClient``); ``url`` only names it in
    messages (without credentials)."""

    def __init__(self, client: Any, collection: str, url: str | None = None) -> None:
        self.client = client
        self.collection = collection
        self.url = url
        self._owned = False
        if not client.collection_exists(collection):
            raise BackfillError(f"no collection {collection!r}{self._at()}")

    @classmethod
    def connect(cls, url: str, collection: str, api_key: str | None = None) -> ServerTarget:
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise BackfillError(
                "--url needs qdrant-client: pip install 'bm25x-sparse[qdrant]'"
            ) from None
        client = QdrantClient(url=url, api_key=api_key, check_compatibility=False)
        try:
            target = cls(client, collection, url)
        except BaseException:
            client.close()
            raise
        target._owned = True
        return target

    def _at(self) -> str:
        return f" at {public_url(self.url)}" if self.url else ""

    def describe(self) -> str:
        return f"collection {self.collection!r}{self._at()}"

    def _config(self) -> Any:
        return self.client.get_collection(self.collection).config

    # --- vectors ---------------------------------------------------------------------------

    def vectors(self) -> dict[str, Existing]:
        from qdrant_client import models

        params = self._config().params
        dense = params.vectors
        if isinstance(dense, models.VectorParams):
            dense = {"": dense}
        out: dict[str, Existing] = {}
        for name, p in (dense or {}).items():
            out[name] = Existing("dense", size=p.size, multivector=p.multivector_config is not None)
        for name, p in (params.sparse_vectors or {}).items():
            out[name] = Existing("sparse", idf=p.modifier == models.Modifier.IDF)
        return out

    def _server_version(self) -> str:
        try:
            return str(self.client.info().version)
        except Exception:
            return "unknown"

    def add_vector(self, name: str, spec: VectorSpec) -> None:
        from qdrant_client import models
        from qdrant_client.http.exceptions import UnexpectedResponse

        config: Any
        if spec.kind == "sparse":
            modifier = models.Modifier.IDF if spec.idf else None
            config = models.SparseVectorNameConfig(
                sparse=models.SparseVectorConfig(modifier=modifier)
            )
        else:
            assert spec.size is not None
            config = models.DenseVectorNameConfig(
                dense=models.DenseVectorConfig(
                    size=spec.size, distance=models.Distance(spec.distance)
                )
            )
        create = getattr(self.client, "create_vector_name", None)
        if create is None:
            raise CannotAddVector(
                "this qdrant-client cannot add a named vector to an existing collection "
                f"(that needs qdrant-client and Qdrant {NAMED_VECTORS_SINCE} or later){COPY_HINT}"
            )
        try:
            create(self.collection, name, config, wait=True)
        except UnexpectedResponse as e:
            if e.status_code != 404 or not self.client.collection_exists(self.collection):
                raise
            raise CannotAddVector(
                f"the Qdrant server{self._at()} (version {self._server_version()}) cannot add a "
                f"named vector to an existing collection: that needs Qdrant "
                f"{NAMED_VECTORS_SINCE} or later{COPY_HINT}"
            ) from None

    # --- metadata --------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        return dict(self._config().metadata or {})

    def save_metadata(self, entries: Mapping[str, Any]) -> None:
        # Writes are made with wait=true: every write before this is already applied.
        self.client.update_collection(self.collection, metadata=dict(entries))

    # --- points ----------------------------------------------------------------------------

    def _filter(self, flt: Mapping[str, Any] | None, missing: str | None) -> Any:
        from qdrant_client import models

        user = models.Filter.model_validate(dict(flt)) if flt else None
        if missing is None:
            return user
        return models.Filter(
            must=[user] if user is not None else None,
            must_not=[models.HasVectorCondition(has_vector=missing)],
        )

    def scroll(
        self,
        offset: PointId | None,
        limit: int,
        field: str,
        flt: Mapping[str, Any] | None,
        missing: str | None,
    ) -> tuple[list[Record], PointId | None]:
        points, following = self.client.scroll(
            self.collection,
            scroll_filter=self._filter(flt, missing),
            limit=limit,
            offset=offset,
            with_payload=[field],
            with_vectors=False,
        )
        records = [(normal_id(p.id), p.payload) for p in points]
        return records, (normal_id(following) if following is not None else None)

    def write(self, ids: Sequence[PointId], name: str, vectors: Encoded) -> None:
        from qdrant_client import models

        rows: list[Any]
        if isinstance(vectors, SparseBatch):
            ptr = vectors.indptr.tolist()
            ind, val = vectors.indices.tolist(), vectors.values.tolist()
            rows = [
                models.SparseVector(
                    indices=ind[ptr[i] : ptr[i + 1]], values=val[ptr[i] : ptr[i + 1]]
                )
                for i in range(len(ids))
            ]
        else:
            rows = vectors.tolist()
        points = [models.PointVectors(id=pid, vector={name: v}) for pid, v in zip(ids, rows)]
        self.client.update_vectors(self.collection, points, wait=True)

    def sample(
        self, n: int, name: str, field: str, flt: Mapping[str, Any] | None
    ) -> list[tuple[PointId, dict[str, Any] | None, Any]]:
        from qdrant_client import models

        user = models.Filter.model_validate(dict(flt)) if flt else None
        must: list[Any] = [models.HasVectorCondition(has_vector=name)]
        if user is not None:
            must.insert(0, user)
        found = self.client.query_points(
            self.collection,
            query=models.SampleQuery(sample=models.Sample.RANDOM),
            query_filter=models.Filter(must=must),
            limit=n,
            with_payload=[field],
            with_vectors=[name],
        ).points
        out: list[tuple[PointId, dict[str, Any] | None, Any]] = []
        for p in found:
            stored = (p.vector or {}).get(name) if isinstance(p.vector, dict) else None
            if isinstance(stored, models.SparseVector):
                stored = (list(stored.indices), list(stored.values))
            out.append((normal_id(p.id), p.payload, stored))
        return out

    def query(self, name: str, vectors: Sequence[Any], limit: int) -> list[list[Hit]]:
        from qdrant_client import models

        requests = []
        for v in vectors:
            if hasattr(v, "indices"):
                target: Any = models.SparseVector(
                    indices=v.indices.tolist(), values=v.values.tolist()
                )
            else:
                target = [float(x) for x in v]
            requests.append(
                models.QueryRequest(query=target, using=name, limit=limit, with_payload=True)
            )
        if not requests:
            return []
        found = self.client.query_batch_points(self.collection, requests)
        return [[hit(p.id, p.score, p.payload) for p in r.points] for r in found]

    def count(self, flt: Mapping[str, Any] | None, missing: str | None) -> int:
        found = self.client.count(
            self.collection, count_filter=self._filter(flt, missing), exact=True
        )
        return int(found.count)

    def close(self) -> None:
        if self._owned:  # a client given by the caller stays theirs
            self.client.close()
