"""The store in a Qdrant server or cluster (or qdrant-client's local mode): settings in the
collection's metadata, points written over REST by :mod:`bm25x.app.rest_points`, and the
client's version checked against the server's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bm25x import SparseBatch, SparseVector
from bm25x.app.errors import StoreError
from bm25x.app.rest_points import PointWriter, rest_base, upsert_body
from bm25x.app.store.base import Dense, Hit, Store
from bm25x.app.store.points import (
    DENSE,
    FINGERPRINT,
    RRF_K,
    SPARSE,
    _fingerprints,
    _hit,
    _point_rows,
)
from bm25x.internals import point_ids

__all__ = ["QdrantStore", "public_url", "version_gap"]

_METADATA_KEY = "bm25x"


def public_url(url: str) -> str:
    """``url`` without user, password, query or fragment: what a message may show of it."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<the given URL>"
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _major_minor(version: str) -> tuple[int, int] | None:
    head = version.strip().lstrip("v").split(".")
    try:
        return int(head[0]), int(head[1])
    except (IndexError, ValueError):
        return None


def version_gap(client: str, server: str) -> bool:
    """Whether qdrant-client ``client`` and a Qdrant server ``server`` are further apart than
    qdrant-client supports: another major version, or minor versions more than one apart
    (qdrant-client's own rule). Versions that cannot be read are not reported."""
    a, b = _major_minor(client), _major_minor(server)
    if a is None or b is None:
        return False
    return a[0] != b[0] or abs(a[1] - b[1]) > 1


class QdrantStore(Store):
    """A collection in any Qdrant that qdrant-client reaches: a server or cluster by URL and
    API key, or qdrant-client's local mode. Settings live in the collection's metadata."""

    def __init__(
        self,
        client: Any,
        collection: str,
        url: str | None = None,
        writer: PointWriter | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.url = url
        """The server's URL (None for local mode); messages show only :func:`public_url`."""
        self._writer = writer
        """Writes points over REST itself (:mod:`bm25x.app.rest_points`), a few requests in
        flight; None writes through qdrant-client (its local mode). Every other call waits
        for the writes in flight first, so it sees them, and reports their failure."""

    @property
    def writes_in_background(self) -> bool:
        return self._writer is not None

    @classmethod
    def connect(cls, url: str, collection: str, api_key: str | None = None) -> QdrantStore:
        """A store for ``collection`` on the Qdrant at ``url``."""
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise StoreError(
                "--url needs qdrant-client: pip install 'bm25x-sparse[qdrant]'"
            ) from None
        # qdrant-client's own check warns from a background thread, as a multi-line
        # UserWarning that can land in the middle of the output; the CLI asks once instead
        # (version_note) and says it in one line.
        client = QdrantClient(url=url, api_key=api_key, check_compatibility=False)
        writer = PointWriter(
            rest_base(url, api_key),
            collection,
            api_key,
            f"collection {collection!r} at {public_url(url)}",
        )
        return cls(client, collection, url, writer)

    def _settle(self) -> None:
        """Wait for the writes in flight (raising the first that failed)."""
        if self._writer is not None:
            self._writer.wait()

    def _at(self) -> str:
        return f" at {public_url(self.url)}" if self.url else ""

    def describe(self) -> str:
        return f"collection {self.collection!r}{self._at()}"

    def version_note(self) -> str | None:
        """One line when qdrant-client and the server are further apart than qdrant-client
        supports (:func:`version_gap`), else None. Asks the server once; a server that does not
        say its version (a proxy in front of it) is not reported, and one that cannot be
        reached raises qdrant-client's error, as the first real request would."""
        from importlib.metadata import PackageNotFoundError, version

        from qdrant_client.http.exceptions import UnexpectedResponse

        try:
            client_version = version("qdrant-client")
        except PackageNotFoundError:
            return None
        try:
            server_version = str(self.client.info().version)
        except UnexpectedResponse:
            return None
        if not version_gap(client_version, server_version):
            return None
        parsed = _major_minor(server_version)
        assert parsed is not None  # version_gap read it
        series = f"{parsed[0]}.{parsed[1]}"
        return (
            f"qdrant-client {client_version} is more than one minor version from the Qdrant "
            f"server{self._at()} "
            f"({server_version}); if a request fails, install a matching client: "
            f"pip install 'qdrant-client~={series}.0'"
        )

    def lock(self, shared: bool) -> None:
        pass  # no local lock for a server collection; create() re-checks instead

    def settings(self) -> dict[str, Any] | None:
        self._settle()
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

    def create(
        self, settings: dict[str, Any], dense_size: int | None, replace: bool = False
    ) -> None:
        from qdrant_client import models

        self._settle()
        if self.client.collection_exists(self.collection):
            if not replace:
                raise StoreError(
                    f"collection {self.collection!r} was created by another process meanwhile; "
                    "run this again"
                )
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
        self._settle()
        self.client.update_collection(self.collection, metadata={_METADATA_KEY: settings})

    def drop(self) -> None:
        self._settle()
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)

    def existing(self, doc_ids: Sequence[str]) -> dict[str, str | None]:
        if self._writer is not None:
            self._writer.wait_for(doc_ids)  # only the writes of these documents
        records = self.client.retrieve(
            self.collection,
            point_ids(doc_ids),
            with_payload=["doc_id", FINGERPRINT],
            with_vectors=False,
        )
        return _fingerprints(records)

    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
        *,
        point_ids: Sequence[str] | None = None,
    ) -> None:
        if self._writer is not None:  # the JSON writer makes the point ids as it writes them
            self._writer.put(upsert_body(doc_ids, payloads, sparse, dense, SPARSE, DENSE), doc_ids)
            return
        from qdrant_client import models

        def make_sparse(indices: list[int], values: list[float]) -> Any:
            return models.SparseVector(indices=indices, values=values)

        rows = _point_rows(doc_ids, payloads, sparse, dense, make_sparse, point_ids)
        points = [
            models.PointStruct(id=pid, vector=vector, payload=body) for pid, vector, body in rows
        ]
        self.client.upsert(self.collection, points, wait=True)

    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        from qdrant_client import models

        self._settle()
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
        self._settle()
        return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
