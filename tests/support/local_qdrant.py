"""A Qdrant server stand-in that keeps collections, for tests of ``--url`` and of backfill where
no Qdrant server can run: qdrant-client's local mode behind the part of Qdrant's REST API that
bm25x uses (collections, their metadata and named vectors; points: upsert, retrieve, scroll,
update_vectors, set_payload, count, query), answering as a server of a given version does."""

from __future__ import annotations

import json
import re
import threading
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from support.rest_stand_in import StandInQdrant

__all__ = ["LocalQdrant"]

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("GET", r"/", "info"),
        ("GET", r"/collections/([^/]+)/exists", "exists"),
        ("GET", r"/collections/([^/]+)", "get_collection"),
        ("PUT", r"/collections/([^/]+)", "create_collection"),
        ("DELETE", r"/collections/([^/]+)", "delete_collection"),
        ("PATCH", r"/collections/([^/]+)", "update_collection"),
        ("PUT", r"/collections/([^/]+)/vectors/([^/]+)", "create_vector_name"),
        ("PUT", r"/collections/([^/]+)/points", "upsert"),
        ("POST", r"/collections/([^/]+)/points", "retrieve"),
        ("POST", r"/collections/([^/]+)/points/scroll", "scroll"),
        ("PUT", r"/collections/([^/]+)/points/vectors", "update_vectors"),
        ("POST", r"/collections/([^/]+)/points/payload", "set_payload"),
        ("POST", r"/collections/([^/]+)/points/count", "count"),
        ("POST", r"/collections/([^/]+)/points/query", "query"),
        ("POST", r"/collections/([^/]+)/points/query/batch", "query_batch"),
    )
]

NAMED_VECTORS_SINCE = (1, 18, 0)
"""The first Qdrant release with ``PUT /collections/{name}/vectors/{vector}`` (adding a named
vector to an existing collection); earlier servers answer 404 for that path."""


class StandInError(Exception):
    """A request a Qdrant server refuses: ``status`` and Qdrant's own words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _plain(value: Any) -> Any:
    """A local-mode answer as the JSON a server sends (pydantic models dumped, None fields
    left out as the server leaves them out)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class LocalQdrant(StandInQdrant):
    """A Qdrant server stand-in that keeps its collections in memory: each REST request is
    read with qdrant-client's models and run by qdrant-client's local mode, and answered in
    the server's envelope (``{"result": ..., "status": "ok", "time": ...}``, errors as
    ``{"status": {"error": ...}}`` with 400 or 404). ``version`` is the release it answers
    as: before 1.18.0 it has no route to add a named vector (404, as such a server); a sparse
    vector named in ``PATCH /collections/{name}`` must exist (400, as every release)."""

    def __init__(self, version: str = "1.19.0") -> None:
        from qdrant_client import QdrantClient

        self.version = version
        self.client = QdrantClient(":memory:")
        self._lock = threading.Lock()
        super().__init__(lambda method, path: None)

    def respond(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = urlsplit(path)
        for verb, pattern, name in _ROUTES:
            match = pattern.fullmatch(parts.path)
            if verb != method or match is None:
                continue
            args = [unquote(g) for g in match.groups()]
            request = json.loads(body) if body else {}
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            try:
                with self._lock:
                    result = getattr(self, f"_{name}")(*args, request, query)
            except StandInError as e:
                return e.status, {"status": {"error": str(e)}, "time": 0.0}
            except (ValueError, KeyError, TypeError) as e:
                status = 404 if "not found" in str(e).lower() else 400
                return status, {"status": {"error": f"Bad request: {e}"}, "time": 0.0}
            if name == "info":
                return 200, result
            return 200, {"result": _plain(result), "status": "ok", "time": 0.0}
        return 404, None

    # --- routes: (path arguments..., JSON body, query parameters) -> result --------------------

    def _collection(self, name: str) -> Any:
        if not self.client.collection_exists(name):
            raise StandInError(404, f"Not found: Collection `{name}` doesn't exist!")
        return self.client.get_collection(name)

    def _info(self, body: Any, query: Any) -> Any:
        return {"title": "qdrant - vector search engine", "version": self.version}

    def _exists(self, name: str, body: Any, query: Any) -> Any:
        return {"exists": self.client.collection_exists(name)}

    def _get_collection(self, name: str, body: Any, query: Any) -> Any:
        return self._collection(name)

    def _create_collection(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        if self.client.collection_exists(name):
            raise StandInError(400, f"Bad request: Collection `{name}` already exists!")
        request = models.CreateCollection.model_validate(body)
        return self.client.create_collection(
            name,
            vectors_config=request.vectors or {},
            sparse_vectors_config=request.sparse_vectors,
            metadata=request.metadata,
        )

    def _delete_collection(self, name: str, body: Any, query: Any) -> Any:
        return self.client.delete_collection(name)

    def _update_collection(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        request = models.UpdateCollection.model_validate(body)
        sparse = self._collection(name).config.params.sparse_vectors or {}
        for vector in request.sparse_vectors or {}:
            if vector not in sparse:
                raise StandInError(
                    400, f"Bad request: Sparse vector `{vector}` is not specified in collection "
                    "config",
                )  # fmt: skip
        return self.client.update_collection(
            name,
            sparse_vectors_config=request.sparse_vectors,
            vectors_config=request.vectors,
            metadata=request.metadata,
        )

    def _create_vector_name(self, name: str, vector: str, body: Any, query: Any) -> Any:
        from pydantic import TypeAdapter
        from qdrant_client import models

        if _release(self.version) < NAMED_VECTORS_SINCE:
            raise StandInError(404, "")  # no such route before 1.18.0
        self._collection(name)
        config: Any = TypeAdapter(models.VectorNameConfig).validate_python(body)
        return self.client.create_vector_name(name, vector, config)

    def _upsert(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        if "batch" in body:
            return self.client.upsert(name, models.PointsBatch.model_validate(body).batch)
        return self.client.upsert(name, models.PointsList.model_validate(body).points)

    def _retrieve(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        request = models.PointRequest.model_validate(body)
        return self.client.retrieve(
            name,
            request.ids,
            with_payload=request.with_payload if request.with_payload is not None else True,
            with_vectors=request.with_vector if request.with_vector is not None else False,
        )

    def _scroll(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        request = models.ScrollRequest.model_validate(body)
        points, following = self.client.scroll(
            name,
            scroll_filter=request.filter,
            limit=request.limit or 10,
            offset=request.offset,
            with_payload=request.with_payload if request.with_payload is not None else True,
            with_vectors=request.with_vector if request.with_vector is not None else False,
            order_by=request.order_by,
        )
        return {"points": points, "next_page_offset": following}

    def _update_vectors(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        request = models.UpdateVectors.model_validate(body)
        return self.client.update_vectors(name, request.points)

    def _set_payload(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        request = models.SetPayload.model_validate(body)
        return self.client.set_payload(
            name, request.payload, points=list(request.points or []), key=request.key
        )

    def _count(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        request = models.CountRequest.model_validate(body)
        exact = request.exact if request.exact is not None else True
        return self.client.count(name, count_filter=request.filter, exact=exact)

    def _query_batch(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        request = models.QueryRequestBatch.model_validate(body)
        return self.client.query_batch_points(name, request.searches)

    def _query(self, name: str, body: Any, query: Any) -> Any:
        from qdrant_client import models

        self._collection(name)
        request = models.QueryRequest.model_validate(body)
        return self.client.query_batch_points(name, [request])[0]
