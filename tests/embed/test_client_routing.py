"""bm25x.qdrant's default rule against qdrant-client's own routing of bm25 ``Document``s.

qdrant-client (>= 1.17.1) sends a ``Document`` whose model lower-cases to ``qdrant/bm25`` to a
remote server untouched (the server then computes its own flavour: Qdrant's
``src/common/inference/local_model.rs`` matches the lower-cased name), and in local mode runs
fastembed's ``Qdrant/bm25`` on it. The wrapper must store what the wrapped client would have.

Remote: a stand-in HTTP server records the request qdrant-client sends. Local: qdrant-client's
fastembed model is fastembed's real ``Bm25``, built offline from bm25x's stopword files.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from support import require

require("qdrant_client")
require("fastembed")
from qdrant_client import QdrantClient, models
from qdrant_client.embed.embedder import Embedder
from support.fastembed_oracle import as_dict, build_model_dir
from support.fastembed_oracle import oracle as fastembed_oracle
from support.qdrant_oracle import oracle

import bm25x
import bm25x.qdrant as bq
from bm25x import _server_options
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.corpus import read_docs
from bm25x.errors import ServerOptionWarning

SPELLINGS = ["qdrant/bm25", "Qdrant/bm25", "QDRANT/BM25"]
TEXTS = [
    *[d.text for d in read_docs(sample_corpus())][:60],
    # Where the two flavours differ: snake_case and tokens over 40 chars.
    "snake_case_identifiers and averyveryveryveryveryveryveryveryverylongtokenindeed",
    "The cookies' recipe",
]


class _Recorder(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if raw:
            type(self).bodies.append(json.loads(raw))
        body = json.dumps(
            {"result": {"operation_id": 1, "status": "completed"}, "status": "ok", "time": 0}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST = do_GET = _answer

    def log_message(self, *args: Any) -> None:  # keep pytest's output clean
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: ClassVar[list[dict[str, Any]]] = []
    handler = type("Recorder", (_Recorder,), {"bodies": bodies})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", bodies
    finally:
        httpd.shutdown()
        httpd.server_close()


def _sent_vector(bodies: list[dict[str, Any]]) -> Any:
    (body,) = bodies
    (point,) = body["points"]
    return point["vector"]["bm25"]


@pytest.mark.parametrize("model", SPELLINGS)
def test_remote_client_sends_the_document_and_the_wrapper_sends_the_server_flavour(
    server: tuple[str, list[dict[str, Any]]], model: str
) -> None:
    url, bodies = server
    text = "Baking cookies: the dough rises"
    point = models.PointStruct(id=1, vector={"bm25": models.Document(text=text, model=model)})

    plain = QdrantClient(url=url, check_compatibility=False)
    plain.upsert("docs", [point])
    sent = _sent_vector(bodies)
    # qdrant-client leaves it to the server, which runs its own model for this name.
    assert sent["model"] == model and sent["text"] == text
    assert bq.client_flavor(sent["model"], local=False) == "qdrant"

    bodies.clear()
    wrapped = bq.wrap(QdrantClient(url=url, check_compatibility=False))
    assert not bq.is_local_mode(wrapped.client)
    wrapped.upsert("docs", [point])
    want = bm25x.Bm25().encode(text)  # the server flavour
    assert _sent_vector(bodies) == {
        "indices": want.indices.tolist(),
        "values": want.values.tolist(),
    }


@pytest.fixture(scope="module")
def fastembed_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return fastembed_oracle(build_model_dir(tmp_path_factory.mktemp("fastembed-bm25")), {})


def _local_client(monkeypatch: pytest.MonkeyPatch, model: Any, asked: list[str]) -> Any:
    """A local-mode client whose fastembed sparse model is fastembed's real Bm25 (offline)."""

    def get_model(self: Any, model_name: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(model_name)
        return model

    monkeypatch.setattr(Embedder, "get_or_init_sparse_model", get_model)
    client = QdrantClient(":memory:")
    client.create_collection(
        "docs",
        vectors_config={},
        sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    return client


@pytest.mark.parametrize("model", SPELLINGS)
def test_local_client_runs_fastembed_and_the_wrapper_stores_the_same_vectors(
    monkeypatch: pytest.MonkeyPatch, fastembed_model: Any, model: str
) -> None:
    points = [
        models.PointStruct(id=i, vector={"bm25": models.Document(text=t, model=model)})
        for i, t in enumerate(TEXTS)
    ]
    asked: list[str] = []
    plain = _local_client(monkeypatch, fastembed_model, asked)
    plain.upsert("docs", points)
    assert asked and set(asked) == {model}  # qdrant-client embedded it with fastembed

    wrapped = bq.wrap(_local_client(monkeypatch, fastembed_model, []))
    assert bq.is_local_mode(wrapped.client)
    wrapped.upsert("docs", points)
    ids = list(range(len(TEXTS)))
    by_plain = {p.id: p.vector["bm25"] for p in plain.retrieve("docs", ids, with_vectors=True)}
    by_wrapped = {p.id: p.vector["bm25"] for p in wrapped.retrieve("docs", ids, with_vectors=True)}
    for i in ids:
        # fastembed's values are float64; bm25x's are float32: compare as float32.
        assert as_dict(by_wrapped[i]) == as_dict(by_plain[i]), TEXTS[i]


def test_an_explicit_flavor_option_wins_over_the_client_rule() -> None:
    doc = models.Document(text="Baking cookies", model="Qdrant/bm25", options={"flavor": "qdrant"})
    (vec,) = bq.resolve_bm25([doc], False, local=True)
    assert vec == bm25x.Bm25().encode("Baking cookies")


def test_local_fixture_paths_are_plain(tmp_path: Path) -> None:
    """``path=`` is local mode too."""
    assert bq.is_local_mode(QdrantClient(path=str(tmp_path / "db")))


# The table: options a v1.19.0 server accepts silently, and what it stores for them
# (as bm25x options); measured on a server built from source.
SERVER_READS = [
    ({"language": "German"}, {"language": "none"}),
    ({"language": "GERMAN"}, {"language": "none"}),
    ({"language": "English"}, {"language": "none"}),
    ({"language": "klingon"}, {"language": "none"}),
    ({"avglen": 5}, {}),
    ({"language": "de"}, {"language": "german"}),
]


@pytest.fixture
def fresh_warnings() -> Iterator[None]:
    _server_options._forget_warnings()
    yield
    _server_options._forget_warnings()


@pytest.mark.parametrize(("options", "stored"), SERVER_READS, ids=repr)
def test_the_wrapper_of_a_remote_client_sends_what_the_server_would_store(
    server: tuple[str, list[dict[str, Any]]],
    options: dict[str, Any],
    stored: dict[str, Any],
    fresh_warnings: None,
) -> None:
    url, bodies = server
    text = "Die Kinder backen Kekse, and the children bake cookies"
    point = models.PointStruct(
        id=1, vector={"bm25": models.Document(text=text, model="qdrant/bm25", options=options)}
    )
    wrapped = bq.wrap(QdrantClient(url=url, check_compatibility=False))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        wrapped.upsert("docs", [point])
    reads_otherwise = options != {"language": "de"}
    assert [type(w.message) for w in record] == [ServerOptionWarning] * reads_otherwise
    want = oracle(stored).embed_document(text)
    assert _sent_vector(bodies) == {
        "indices": list(want.indices),
        "values": [float(v) for v in want.values],
    }
    with pytest.raises(bm25x.OptionError) if reads_otherwise else nullcontext():
        bm25x.Bm25(**options)  # the direct API stays strict


def test_strict_options_and_the_warnings_filter_stop_before_sending(
    server: tuple[str, list[dict[str, Any]]], fresh_warnings: None
) -> None:
    url, bodies = server
    doc = models.Document(text="Kekse", model="qdrant/bm25", options={"language": "German"})
    point = models.PointStruct(id=1, vector={"bm25": doc})
    strict = bq.wrap(QdrantClient(url=url, check_compatibility=False), strict_options=True)
    with pytest.raises(bm25x.OptionError, match=r"'German'.*write 'german'"):
        strict.upsert("docs", [point])
    lenient = bq.wrap(QdrantClient(url=url, check_compatibility=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ServerOptionWarning)
        for _ in range(2):
            with pytest.raises(ServerOptionWarning, match="'German'"):
                lenient.upsert("docs", [point])
    assert bodies == []  # nothing was sent
