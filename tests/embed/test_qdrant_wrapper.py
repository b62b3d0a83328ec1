"""bm25x.qdrant: server-style ``models.Document`` objects through qdrant-client (local mode),
resolved by bm25x on the client; and BEIR SciFact quality when the data is present."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import require, require_dir
from support.qdrant_oracle import assert_same, oracle
from support.server_rules import LANGUAGE_SPELLINGS, server_language
from support.strategies import REPO

require("qdrant_client")
from qdrant_client import QdrantClient, models

import bm25x
import bm25x.app.eval
import bm25x.qdrant as bq
from bm25x import _server_options
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.corpus import read_docs
from bm25x.app.ingest import ingest
from bm25x.app.search import search
from bm25x.app.store import EdgeStore
from bm25x.errors import ServerOptionWarning

SCIFACT = REPO.parent / "shared" / "corpora" / "scifact"
DOCS = list(read_docs(sample_corpus()))
QUERIES = ["freedom of speech", "trial by jury", "taxes on incomes", "the militia"]


def doc(text: str, model: str = "qdrant/bm25", **options: Any) -> models.Document:
    return models.Document(text=text, model=model, options=options or None)


@pytest.fixture
def client() -> bq.Client:
    c = bq.wrap(QdrantClient(":memory:"))
    c.create_collection_for("docs", {"bm25": "qdrant/bm25", "fe": "Qdrant/bm25"})
    return c


def as_sparse(v: bm25x.SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=v.indices.tolist(), values=v.values.tolist())


def test_collection_config_and_vectors_equal_bm25x(client: bq.Client) -> None:
    info = client.get_collection("docs").config.params
    assert info.sparse_vectors is not None
    assert info.sparse_vectors["bm25"].modifier == models.Modifier.IDF
    text = "Baking bread: the dough rises"
    client.upsert(
        "docs",
        [
            models.PointStruct(
                id=1, vector={"bm25": doc(text, k=1.5), "fe": doc(text, "Qdrant/bm25")}
            )
        ],
    )
    (point,) = client.retrieve("docs", [1], with_vectors=True)
    assert point.payload == {}  # the text is not stored unless asked
    assert point.vector is not None and not isinstance(point.vector, list)
    assert point.vector["bm25"] == as_sparse(bm25x.Bm25(k=1.5).encode(text))
    assert point.vector["fe"] == as_sparse(bm25x.Bm25(flavor="fastembed").encode(text))


def test_every_write_path(client: bq.Client) -> None:
    texts = ["cats purr", "dogs bark", "volcanoes erupt", "cats and dogs"]
    client.upsert(
        "docs", models.Batch(ids=[1, 2], vectors={"bm25": [doc(texts[0]), doc(texts[1])]})
    )
    client.upload_points(
        "docs",
        (models.PointStruct(id=10 + i, vector={"bm25": doc(t)}) for i, t in enumerate(texts)),
        batch_size=3,
    )
    client.upload_collection("docs", iter([{"bm25": doc(t)} for t in texts]), ids=[20, 21, 22, 23])
    client.update_vectors("docs", [models.PointVectors(id=1, vector={"bm25": doc("lava lava")})])
    assert client.count("docs").count == 10
    records = {r.id: r.vector for r in client.retrieve("docs", [1, 12, 23], with_vectors=True)}
    enc = bm25x.Bm25()
    assert records[1] == {"bm25": as_sparse(enc.encode("lava lava"))}
    assert records[12] == {"bm25": as_sparse(enc.encode(texts[2]))}
    assert records[23] == {"bm25": as_sparse(enc.encode(texts[3]))}


def test_store_text_copies_the_text_into_the_payload() -> None:
    c = bq.Client(":memory:", store_text="body")
    c.create_collection_for("t", {"bm25": "qdrant/bm25"})
    c.upsert("t", [models.PointStruct(id=1, vector={"bm25": doc("a cat")}, payload={"n": 1})])
    c.upsert("t", models.Batch(ids=[2], vectors={"bm25": [doc("a dog")]}))
    payloads = {r.id: r.payload for r in c.retrieve("t", [1, 2])}
    assert payloads == {1: {"n": 1, "body": "a cat"}, 2: {"body": "a dog"}}


def test_documents_and_bm25x_give_the_same_ranking(client: bq.Client, tmp_path: Path) -> None:
    """Server-style Document upserts and queries through the wrapper rank like bm25x's own
    ingest and search into a Qdrant Edge shard."""
    client.upload_points(
        "docs",
        (
            models.PointStruct(id=i, vector={"bm25": doc(d.text)}, payload={"doc_id": d.id})
            for i, d in enumerate(DOCS)
        ),
    )
    edge = EdgeStore(tmp_path / "edge")
    ingest(edge, sample_corpus(), quiet=True)
    expected = search(edge, QUERIES, limit=10)
    edge.close()
    via_points = [
        client.query_points("docs", query=doc(q), using="bm25", limit=10, with_payload=True)
        for q in QUERIES
    ]
    via_batch = client.query_batch_points(
        "docs",
        [
            models.QueryRequest(query=doc(q), using="bm25", limit=10, with_payload=True)
            for q in QUERIES
        ],
    )
    for want, one, batch in zip(expected, via_points, via_batch):
        for got in (one.points, batch.points):
            assert [p.score for p in got] == pytest.approx([h.score for h in want], rel=1e-5)
            last = round(want[-1].score, 4)
            assert {p.payload["doc_id"] for p in got if round(p.score, 4) > last} == {  # type: ignore[index]
                h.id for h in want if round(h.score, 4) > last
            }


def test_prefetch_and_fusion(client: bq.Client) -> None:
    texts = ["cats purr softly", "dogs bark loudly", "cats chase dogs"]
    client.upsert(
        "docs",
        [
            models.PointStruct(id=i, vector={"bm25": doc(t), "fe": doc(t, "Qdrant/bm25")})
            for i, t in enumerate(texts)
        ],
    )
    result = client.query_points(
        "docs",
        prefetch=[
            models.Prefetch(query=doc("cats"), using="bm25"),
            models.Prefetch(
                prefetch=[models.Prefetch(query=doc("dogs", "Qdrant/bm25"), using="fe", limit=5)],
                query=models.NearestQuery(nearest=doc("dogs", "Qdrant/bm25")),
                using="fe",
            ),
        ],
        query=models.FusionQuery(fusion=models.Fusion.RRF),
    )
    assert result.points[0].id == 2  # the only text with both words


def dense_resolver(items: Any, query: bool) -> list[Any]:
    out: list[Any] = bq.resolve_bm25(items, query)
    return [
        np.ones(5, np.float32) if getattr(item, "model", "") == "test/dense" else o
        for o, item in zip(out, items)
    ]


def test_dense_vector_of_the_wrong_size_is_refused_before_upsert() -> None:
    c = bq.wrap(QdrantClient(":memory:"), resolver=dense_resolver)
    c.create_collection_for(
        "h", {"bm25": "qdrant/bm25", "dense": "test/dense"}, sizes={"test/dense": 4}
    )
    point = models.PointStruct(id=1, vector={"dense": doc("x", "test/dense"), "bm25": doc("x")})
    with pytest.raises(bq.VectorSizeError) as e:
        c.upsert("h", [point])
    assert all(s in str(e.value) for s in ("'dense'", "'test/dense'", "size 4", "size 5"))
    assert c.count("h").count == 0
    c.delete_collection("h")
    c.create_collection_for("h", {"bm25": "qdrant/bm25", "dense": "test/dense"}, sizes={"dense": 5})
    c.upsert("h", [point])
    hits = c.query_points("h", query=doc("x", "test/dense"), using="dense").points
    assert [p.id for p in hits] == [1]


def test_unknown_models_are_left_alone_and_cloud_inference_leaves_everything() -> None:
    c = bq.wrap(QdrantClient(":memory:"))
    other = models.Document(text="x", model="openai/text-embedding-3-small")
    pts = [models.PointStruct(id=1, vector={"bm25": doc("x"), "o": other})]
    resolved = c._resolve(pts, False, "none")
    assert resolved[0].vector["o"] is other
    assert isinstance(resolved[0].vector["bm25"], models.SparseVector)
    c.client.cloud_inference = True
    assert c._resolve(pts, False, "none") is pts
    with pytest.raises(ValueError, match="size of vector 'o'"):
        bq.collection_config({"o": "unknown/model"})


def test_bad_options_raise_before_sending(client: bq.Client) -> None:
    with pytest.raises(bm25x.OptionError, match="avglen"):
        client.upsert("docs", [models.PointStruct(id=1, vector={"bm25": doc("x", avglen=3)})])
    with pytest.raises(TypeError):
        bq.wrap(QdrantClient(":memory:"), store_text=3)  # type: ignore[arg-type]


@require_dir(SCIFACT, "SciFact in ../shared/corpora")
def test_scifact_ndcg_matches_qdrant() -> None:
    """Qdrant's own BM25 with the IDF modifier scores nDCG@10 = 0.683 on SciFact."""
    report = bm25x.app.eval.evaluate(SCIFACT, quiet=True)
    assert report.queries == 300 and report.documents == 5183
    assert round(report.ndcg_at_10, 3) == 0.683
    assert report.recall_at_100 > 0.9


def test_a_single_point_instead_of_a_list_is_a_clear_error() -> None:
    client = bq.wrap(QdrantClient(":memory:"))
    client.create_collection_for("one", {"bm25": "qdrant/bm25"})
    point = models.PointStruct(
        id=1, vector={"bm25": models.Document(text="cookies", model="qdrant/bm25")}
    )
    with pytest.raises(TypeError, match=r"wrap it in a list"):
        client.upsert("one", point)
    with pytest.raises(TypeError, match=r"wrap it"):
        client.update_vectors("one", models.PointVectors(id=1, vector={}))


def points_with_a_bad_one(n: int, bad: int) -> Any:
    for i in range(n):
        options = {"k": -1} if i == bad else None
        yield models.PointStruct(
            id=i,
            vector={"bm25": models.Document(text=f"t {i}", model="qdrant/bm25", options=options)},
        )


def test_upload_points_names_the_point_that_fails_and_what_was_written() -> None:
    from bm25x.errors import PartialUploadError

    client = bq.wrap(QdrantClient(":memory:"))
    client.create_collection_for("docs", {"bm25": "qdrant/bm25"})
    with pytest.raises(PartialUploadError) as info:
        client.upload_points("docs", points_with_a_bad_one(1000, 700))
    e = info.value
    assert (e.index, e.point_id, e.exact) == (700, 700, True)
    assert e.written == client.count("docs").count == 512  # whole chunks, none after
    assert "point 700 (id 700)" in str(e) and 'option "k"' in str(e)
    assert "the 512 points before it were written" in str(e)
    assert isinstance(e.__cause__, ValueError)
    # Resuming from the reported point writes the rest; the earlier points are untouched.
    fixed = (p for p in points_with_a_bad_one(1000, -1) if p.id >= e.written)  # type: ignore[operator]
    client.upload_points("docs", fixed)
    assert client.count("docs").count == 1000


def test_upload_points_in_parallel_reports_an_upper_bound() -> None:
    from bm25x.errors import PartialUploadError

    sent: list[int] = []

    class Recorder:
        cloud_inference = False

        def upload_points(self, name: str, points: Any, *args: Any, **kw: Any) -> None:
            sent.extend(p.id for p in points)

    client = bq.wrap(Recorder())  # type: ignore[arg-type]
    with pytest.raises(PartialUploadError) as info:
        client.upload_points("docs", points_with_a_bad_one(1000, 300), parallel=2)
    assert (info.value.index, info.value.written, info.value.exact) == (300, 256, False)
    assert sent == list(range(256))  # nothing from the failing chunk left the process


def test_threads_in_document_options_is_an_execution_setting() -> None:
    plain = bq.resolve_bm25([doc("cookies and dough")], False)
    threaded = bq.resolve_bm25([doc("cookies and dough", threads=2)], False)
    assert threaded == plain
    with pytest.raises(ValueError, match="threads"):
        bq.resolve_bm25([doc("x", threads=0)], False)


def test_without_qdrant_client_the_error_names_the_extra() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['qdrant_client'] = None\n"
        "try:\n    import bm25x.qdrant\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'bm25x-sparse[qdrant]'" in out.stdout


# --- server mode: a remote client's options, read as the server reads them ---------------


@pytest.fixture
def fresh_warnings() -> Iterator[None]:
    """No option problem warned about yet (the record is per process)."""
    _server_options._forget_warnings()
    yield
    _server_options._forget_warnings()


SWEEP_TEXT = "The Running cookies, die Häuser und les maisons " + " ".join(
    " ".join(bm25x._native.stopwords(n)[:3]) for n in bm25x._native.languages()[0]
)


@pytest.mark.parametrize("spelling", LANGUAGE_SPELLINGS)
def test_a_remote_clients_language_is_read_as_the_server_reads_it(
    fresh_warnings: None, spelling: str
) -> None:
    server = server_language(spelling)
    docs = [doc(SWEEP_TEXT, language=spelling)]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        (vector,) = bq.resolve_bm25(docs, False)  # the default: a remote client
        (query,) = bq.resolve_bm25(docs, True)
    # One warning for a spelling the server reads otherwise, however many calls; none else.
    assert [type(w.message) for w in record] == (
        [] if server == spelling else [ServerOptionWarning]
    )
    ref = oracle({"language": server})
    assert vector is not None and query is not None
    assert_same(vector, ref.embed_document(SWEEP_TEXT), spelling)
    assert_same(query, ref.embed_query(SWEEP_TEXT), spelling)


def test_local_mode_and_explicit_flavours_keep_strict_options(fresh_warnings: None) -> None:
    # Local mode runs fastembed's flavour, whose options bm25x checks strictly.
    with pytest.raises(bm25x.OptionError, match="language"):
        bq.resolve_bm25([doc("x", language="German")], False, local=True)
    with pytest.raises(bm25x.OptionError, match="token_max_length"):
        bq.resolve_bm25([doc("x", flavor="qdrant", token_max_length=3)], False, local=True)
    # An explicit fastembed flavour on a remote client takes fastembed's options.
    (vec,) = bq.resolve_bm25([doc("x y", flavor="fastembed", token_max_length=3)], False)
    assert vec == bm25x.Bm25(flavor="fastembed", token_max_length=3).encode("x y")


def test_strict_options_refuses_what_the_server_reads_otherwise(fresh_warnings: None) -> None:
    with pytest.raises(bm25x.OptionError, match="strict_options=True"):
        bq.resolve_bm25([doc("x", language="German")], False, strict_options=True)
    c = bq.wrap(QdrantClient(":memory:"), strict_options=True)
    assert c.resolver.keywords == {"local": True, "strict_options": True}  # type: ignore[attr-defined]
