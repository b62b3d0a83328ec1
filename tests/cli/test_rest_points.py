"""`--url` writes: the REST upserts bm25x sends itself (bm25x.app.rest_points) carry the points
qdrant-client sent before, to the address qdrant-client used; failures that may pass are sent
again with the same point ids, others stop with the server's words; requests in flight are
bounded, and two writes of one point are never in flight at once."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pytest
from support import require
from support.rest_stand_in import Drop, Received, StandInQdrant

import bm25x
from bm25x.app.errors import StoreError
from bm25x.app.ingest import ingest
from bm25x.app.rest_points import PointWriter, rest_base, upsert_body
from bm25x.app.store import DENSE, SPARSE, QdrantStore, point_id

require("qdrant_client")
from qdrant_client import QdrantClient

COMPLETED = {"result": {"operation_id": 0, "status": "completed"}, "status": "ok", "time": 0}


def _server(count: int = 0) -> StandInQdrant:
    """A stand-in that takes a whole ingest: no collection at first, then every write."""

    def answer(method: str, path: str) -> Any:
        if path.endswith("/exists"):
            return {"result": {"exists": False}, "status": "ok", "time": 0}
        if "/points/count" in path:
            return {"result": {"count": count}, "status": "ok", "time": 0}
        if "/points" in path:
            return COMPLETED
        if method in ("PUT", "PATCH"):
            return {"result": True, "status": "ok", "time": 0}
        return None

    return StandInQdrant(answer, keep=True)


def _points(received: list[Received]) -> dict[str, dict[str, Any]]:
    """Every point upserted, by id (each id once)."""
    out: dict[str, dict[str, Any]] = {}
    for r in received:
        if r.method == "PUT" and "/points" in r.path:
            for point in json.loads(r.body)["points"]:
                assert point["id"] not in out
                out[point["id"]] = point
    return out


TEXTS = ["first text here", "", "the", "Ünïcode wörds ständig", "cats purr " * 40]
IDS = ["d0", 'quote"d', "ünï", "7", "d/4"]


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
def test_the_json_is_what_qdrant_client_sent() -> None:
    """The same upsert through qdrant-client (bm25x before) and through bm25x's writer: the
    same path, api-key header and points (indices, float values, dense rows, payloads)."""
    sparse = bm25x.Bm25().encode(TEXTS)
    assert 0 in np.diff(sparse.indptr)  # an empty vector ("" and a stopword) is sent too
    dense = np.random.default_rng(0).random((len(TEXTS), 3), dtype=np.float32)
    payloads = [{"bm25x_text": f"fp{i}", "text": t} for i, t in enumerate(TEXTS)]
    sent = []
    for new in (False, True):
        server = _server()
        try:
            if new:
                store = QdrantStore.connect(server.url, "c/1", api_key="k")
            else:
                client = QdrantClient(url=server.url, api_key="k", check_compatibility=False)
                store = QdrantStore(client, "c/1", server.url)
            store.upsert(IDS, payloads, sparse, dense)
            store.close()
        finally:
            server.close()
        (request,) = server.received
        assert request.headers["api-key"] == "k"
        assert request.headers["content-type"] == "application/json"
        sent.append((request.method, request.path, _points(server.received)))
    assert sent[0][:2] == sent[1][:2] == ("PUT", "/collections/c%2F1/points?wait=true")
    old, new_points = sent[0][2], sent[1][2]
    assert old == new_points  # parsed JSON: ints and floats compared exactly
    assert sorted(old) == sorted(point_id(d) for d in IDS)
    for i, doc_id in enumerate(IDS):
        point = new_points[point_id(doc_id)]
        a, b = sparse.indptr[i], sparse.indptr[i + 1]
        assert point["vector"][SPARSE]["indices"] == sparse.indices[a:b].tolist()
        assert point["vector"][SPARSE]["values"] == sparse.values[a:b].tolist()
        assert point["vector"][DENSE] == dense[i].tolist()
        assert point["payload"] == {"doc_id": doc_id, **payloads[i]}


def test_an_ingest_over_url_writes_the_points_qdrant_client_wrote() -> None:
    """A whole `bm25x ingest --url` (several batches, requests in flight) against the
    stand-in, compared with the same ingest written through qdrant-client."""
    from bm25x.app.cli.commands import sample_corpus

    corpus = sample_corpus()
    lines = corpus.read_text(encoding="utf-8").splitlines()
    written = []
    for new in (False, True):
        server = _server(count=len(lines))
        try:
            if new:
                store = QdrantStore.connect(server.url, "docs")
            else:
                client = QdrantClient(url=server.url, check_compatibility=False)
                store = QdrantStore(client, "docs", server.url)
            # the REST writer's ingest encodes on bm25x's worker, qdrant-client's inline
            assert store.writes_in_background == new
            report = ingest(store, corpus, batch_size=7, quiet=True, store_text=True)
            store.close()
        finally:
            server.close()
        assert report.written == len(lines)
        written.append(_points(server.received))
    assert len(written[1]) == len(lines)
    assert written[0] == written[1]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://localhost:6333", None),
        ("http://127.0.0.1", None),
        ("localhost:7000", None),
        ("https://qdrant.example:443/base/", None),
        ("http://host:6333/some/prefix", "k"),
        ("http://[::1]:6333", None),
        ("host.example", "k"),
        ("//host.example:6333", None),
    ],
)
@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
def test_the_address_is_the_one_qdrant_client_talks_to(url: str, key: str | None) -> None:
    client = QdrantClient(url=url, api_key=key, check_compatibility=False)
    expected = client._client.rest_uri  # qdrant-client's own; the requests go below it
    assert rest_base(url, key) == expected.rstrip("/") + "/"


def _writer(server: StandInQdrant, **kw: Any) -> PointWriter:
    return PointWriter(f"{server.url}/", "c", None, "collection 'c'", backoff=0, **kw)


def _body(ids: list[str]) -> tuple[bytes, list[str]]:
    sparse = bm25x.Bm25().encode([f"text of {d}" for d in ids])
    return upsert_body(ids, [{} for _ in ids], sparse, None, SPARSE, DENSE), ids


def test_a_failure_that_may_pass_is_sent_again_as_it_was() -> None:
    replies: list[Any] = [(503, {"status": {"error": "busy"}}), Drop(), COMPLETED]

    def answer(method: str, path: str) -> Any:
        reply = replies.pop(0)
        if isinstance(reply, Drop):
            raise reply
        return reply

    server = StandInQdrant(answer, keep=True)
    try:
        writer = _writer(server)
        writer.put(*_body(["a", "b"]))
        writer.close()
    finally:
        server.close()
    assert replies == []
    bodies = [r.body for r in server.received]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same points, the same ids


@pytest.mark.parametrize(
    ("reply", "tries", "said"),
    [
        ((400, {"status": {"error": "Wrong input: vector dimension"}}), 1, "HTTP 400: Wrong"),
        ((503, {"status": {"error": "overloaded"}}), 5, "(after 5 attempts): HTTP 503"),
        ((200, {"result": {"status": "wait_timeout"}}), 1, "HTTP 200"),
    ],
)
def test_a_failed_write_stops_with_what_the_server_said(reply: Any, tries: int, said: str) -> None:
    server = StandInQdrant(lambda method, path: reply)
    try:
        writer = _writer(server)
        writer.put(*_body(["a"]))
        with pytest.raises(StoreError, match="writing points to collection 'c'") as info:
            writer.wait()
        assert said in str(info.value)
        assert "run the same command again to resume" in str(info.value)
        with pytest.raises(StoreError):  # and again on every later call
            writer.put(*_body(["b"]))
        writer.close()  # already reported: closing does not raise it a third time
    finally:
        server.close()
    assert len(server.requests) == tries


def test_requests_in_flight_are_bounded_and_overlap() -> None:
    inside = 0
    most = 0
    lock = threading.Lock()
    two_inside = threading.Event()

    def answer(method: str, path: str) -> Any:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
            if inside == 2:
                two_inside.set()
        two_inside.wait(timeout=10)  # every answer waits until two requests are in at once
        with lock:
            inside -= 1
        return COMPLETED

    server = StandInQdrant(answer)
    try:
        writer = _writer(server, in_flight=2)
        for k in range(6):
            writer.put(*_body([f"d{k}"]))
        writer.close()
    finally:
        server.close()
    assert len(server.requests) == 6
    assert most == 2


def test_a_point_is_never_in_flight_twice() -> None:
    answered: list[str] = []
    release = threading.Event()

    def answer(method: str, path: str) -> Any:
        if not answered:
            release.wait(timeout=10)  # the first write is slow
        answered.append(path)
        return COMPLETED

    server = StandInQdrant(answer, keep=True)
    try:
        writer = _writer(server)
        writer.put(*_body(["x", "y"]))
        threading.Timer(0.2, release.set).start()
        writer.put(*_body(["y"]))  # y is in flight: this waits for the first answer
        assert answered
        writer.close()
    finally:
        server.close()
    assert len(answered) == 2
