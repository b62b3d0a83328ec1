"""Writing points to a Qdrant server over its REST API, without qdrant-client's models.

qdrant-client builds a pydantic object per point and serializes it in Python: 45-60 µs a
point, 15-19x the cost of encoding the document. Here the upsert request's JSON is written
natively from a batch's CSR arrays (``bm25x._native.upsert_json``: the point ids, the vectors
and the payloads, which orjson serializes in one call), and sent with httpx from a few threads,
so that the next batch is encoded and serialized while earlier ones are on the wire or being
written by the server.

The JSON is the one qdrant-client sends for the same points (the same keys, and the float32
values widened to float64 as qdrant-client's ``tolist()`` does, so the server parses the same
numbers). A request that fails on the way (no connection, a timeout, a 5xx or 429 answer) is
sent again as it was: points are keyed by ids derived from the document ids, so a repeated
upsert rewrites the same points. Requests in flight at once never share a point id (a write
of an id still in flight waits for it), so writes of one id land in the order they were made.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import numpy.typing as npt
import orjson

from bm25x import SparseBatch, __version__
from bm25x.app.errors import StoreError
from bm25x.internals import upsert_json

__all__ = ["PointWriter", "rest_base", "upsert_body"]

DEFAULT_PORT = 6333
"""Qdrant's REST port, which qdrant-client adds to a URL that names none."""
IN_FLIGHT = 3
"""Upsert requests sent and not yet answered, at most: enough to keep the server and the
network busy while the next batch is made, without piling up memory."""
ATTEMPTS = 5
"""Tries per request, the first included, when it fails in a way that may pass."""
BACKOFF = 0.5
"""Seconds before the first retry; doubled before each next one (0.5, 1, 2, 4: 7.5 s)."""
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""A write with ``wait=true`` answers when the server has applied it; a big batch on a busy
cluster can take seconds (qdrant-client's REST default of 5 s fails such writes)."""
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def rest_base(url: str, api_key: str | None) -> str:
    """The base of every REST request to the Qdrant at ``url``, ending in ``/``: the address
    qdrant-client talks to for the same ``url`` and ``api_key`` (port 6333 when none is
    given; https without a scheme when there is a key; the URL's path as a prefix)."""
    from urllib3.util import parse_url  # qdrant-client's parser (urllib3 comes with it)

    if url.startswith("localhost"):
        url = f"//{url}"  # "localhost:6333", which qdrant-client reads as a host and port
    parsed = parse_url(url)
    scheme = parsed.scheme or ("https" if api_key is not None else "http")
    if scheme not in ("http", "https"):
        raise StoreError(f"--url: unknown scheme {scheme!r}; use http:// or https://")
    host = parsed.host or ""
    port = parsed.port or DEFAULT_PORT
    path = (parsed.path or "").rstrip("/")
    return f"{scheme}://{host}:{port}{path}/"


Dense = npt.NDArray[np.float32]


def upsert_body(
    doc_ids: Sequence[str],
    payloads: Sequence[dict[str, Any]],
    sparse: SparseBatch,
    dense: Dense | None,
    sparse_name: str,
    dense_name: str,
) -> bytes:
    """The JSON of an upsert of these documents (``{"points": [...]}``, each point with its
    id, its named vectors and the payload ``{"doc_id": id, **payload}``), written natively
    from the batch's arrays; the payloads are serialized by orjson in one call."""
    if not len(doc_ids) == len(payloads) == len(sparse):
        raise ValueError(
            f"{len(doc_ids)} ids, {len(payloads)} payloads and {len(sparse)} vectors: "
            "one of each per document"
        )
    if any("doc_id" in p for p in payloads):
        raise ValueError("a payload may not set doc_id: it is the document's id")
    rows = None if dense is None else np.ascontiguousarray(dense, dtype=np.float32)
    return upsert_json(
        doc_ids,
        orjson.dumps(payloads),
        np.ascontiguousarray(sparse.indptr, dtype=np.int64),
        np.ascontiguousarray(sparse.indices, dtype=np.uint32),
        np.ascontiguousarray(sparse.values, dtype=np.float32),
        sparse_name,
        rows,
        dense_name,
    )


class PointWriter:
    """Upserts to one collection, sent from up to ``in_flight`` threads. :meth:`put` returns
    once the request is queued; an error of a request surfaces at the next call (and at
    :meth:`wait`), after which every call raises it again."""

    def __init__(
        self,
        base: str,
        collection: str,
        api_key: str | None,
        where: str,
        *,
        in_flight: int = IN_FLIGHT,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": f"bm25x/{__version__}"}
        if api_key is not None:
            headers["api-key"] = api_key
        self._http = httpx.Client(headers=headers, timeout=timeout)
        self._url = f"{base}collections/{quote(collection, safe='')}/points"
        self._where = where
        self._in_flight = in_flight
        self._attempts = attempts
        self._backoff = backoff
        self._pool = ThreadPoolExecutor(in_flight, thread_name_prefix="bm25x-upsert")
        self._pending: deque[tuple[Future[None], frozenset[str]]] = deque()
        self._failed: StoreError | None = None
        self._stop = threading.Event()

    def put(self, body: bytes, ids: Sequence[str]) -> None:
        """Send an upsert (``body``, from :func:`upsert_body`) of the documents ``ids``."""
        keys = frozenset(ids)
        self.wait_for(keys)
        while len(self._pending) >= self._in_flight:
            self._settle_oldest()
        self._pending.append((self._pool.submit(self._send, body), keys))

    def wait_for(self, ids: frozenset[str] | Sequence[str]) -> None:
        """Wait for the requests in flight that write any of the documents ``ids``."""
        keys = ids if isinstance(ids, frozenset) else frozenset(ids)
        self._raise_failed()
        last = max((k for k, (_, held) in enumerate(self._pending) if held & keys), default=-1)
        for _ in range(last + 1):
            self._settle_oldest()

    def wait(self) -> None:
        """Wait for every request sent; raise the first that failed."""
        self._raise_failed()
        while self._pending:
            self._settle_oldest()

    def close(self) -> None:
        """Wait for the requests sent (raising a failure not yet reported), then let go of
        the connections."""
        try:
            if self._failed is None:
                self.wait()
        finally:
            self._stop.set()  # no more retries for whatever is left
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._http.close()

    def _raise_failed(self) -> None:
        if self._failed is not None:
            raise self._failed

    def _settle_oldest(self) -> None:
        future, _ = self._pending.popleft()
        try:
            future.result()
        except StoreError as e:
            self._failed = e
            raise

    def _send(self, body: bytes) -> None:
        """One upsert, tried again while it fails in a way that may pass."""
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts or self._stop.is_set()
            try:
                response = self._http.put(self._url, params={"wait": "true"}, content=body)
            except httpx.TransportError as e:
                if last:
                    raise self._error(f"no answer ({type(e).__name__}: {e})", attempt) from None
            else:
                if response.status_code not in RETRY_STATUS or last:
                    self._check(response, attempt)
                    return
            if self._stop.wait(delay):
                raise self._error("stopped before the write was answered", attempt)
            delay *= 2

    def _check(self, response: httpx.Response, attempt: int) -> None:
        """Raise unless ``response`` says the points were written."""
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            answer = None
        result = answer.get("result") if isinstance(answer, dict) else None
        status = result.get("status") if isinstance(result, dict) else None
        if response.status_code == 200 and status in ("completed", "acknowledged"):
            return
        said = ""
        if isinstance(answer, dict) and isinstance(answer.get("status"), dict):
            said = str(answer["status"].get("error", ""))
        said = said or response.text[:300].strip() or response.reason_phrase
        raise self._error(f"HTTP {response.status_code}: {said}", attempt)

    def _error(self, what: str, attempts: int) -> StoreError:
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        return StoreError(
            f"writing points to {self._where} failed{tries}: {what}; what was written stays: "
            "run the same command again to resume"
        )
