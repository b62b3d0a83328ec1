"""`bm25x backfill` end to end, on an Edge shard and on the REST stand-in of a Qdrant server:
a dense-only collection gains bm25; fastembed-flavour vectors are rewritten in the server's
flavour; points without the field are counted, listed and never given a vector; an
interrupted run resumes; every other vector and every payload stays byte-identical."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import require
from support.backfill import Where, docs, points_of, sparse_bytes, where

import bm25x
from bm25x.app.cli import main

require("qdrant_client")
require("qdrant_edge")

from bm25x.app.backfill import BackfillError, backfill
from bm25x.app.backfill.target import id_order
from bm25x.app.stand_in import LocalQdrant

KINDS = ["edge", "server"]


@pytest.fixture
def server() -> Iterator[LocalQdrant]:
    stand_in = LocalQdrant()
    yield stand_in
    stand_in.close()


@pytest.fixture(params=KINDS)
def coll(request: pytest.FixtureRequest, tmp_path: Path, server: LocalQdrant) -> Where:
    return where(request.param, tmp_path, server)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def without(snapshot: dict[Any, Any], name: str) -> dict[Any, Any]:
    """The snapshot with the vector ``name`` left out of every point."""
    return {
        pid: {**p, "vectors": {k: v for k, v in p["vectors"].items() if k != name}}
        for pid, p in snapshot.items()
    }


def test_a_dense_only_collection_gains_bm25(coll: Where, capsys: Any) -> None:
    corpus = docs()
    coll.create(points_of(corpus))
    before = coll.snapshot()
    args = ["backfill", *coll.argv, "--vector", "bm25", "--from-field", "text", "--page-size", "16"]
    status, out, err = run(capsys, *args, "--json")
    assert status == 0, err
    report = json.loads(out)
    assert (report["read"], report["written"], report["created"]) == (92, 92, True)
    assert "added vector 'bm25'" in err and "92 points read, 92 written" in err

    after = coll.snapshot()
    assert without(after, "bm25") == before  # other vectors and payloads: byte-identical
    enc = bm25x.Bm25()
    by_doc = {d.id: d.text for d in corpus}
    for p in after.values():
        doc_id = json.loads(p["payload"])["doc_id"]
        assert p["vectors"]["bm25"] == sparse_bytes(enc.encode(by_doc[doc_id]))

    record = coll.metadata()["bm25x_vector:bm25"]
    assert record["model"] == "qdrant/bm25" and record["flavor"] == "qdrant"
    assert record["kind"] == "sparse" and record["idf"] and record["from_field"] == "text"

    # Again with the same arguments: nothing to do, nothing written.
    status, out, err = run(capsys, *args, "--json")
    assert status == 0 and json.loads(out)["already_done"] and "nothing to do" in err
    assert coll.snapshot() == after


def test_fastembed_vectors_are_rewritten_in_the_server_flavour(coll: Where, capsys: Any) -> None:
    from support.qdrant_oracle import oracle

    # The flavours split words differently: `snake_case` is one word to fastembed, two to the
    # server. Half the documents name an identifier, so their vectors differ.
    corpus = [
        d._replace(text=f"{d.text} (see read_settings_file)") if i % 2 else d
        for i, d in enumerate(docs())
    ]
    fastembed = bm25x.Bm25(flavor="fastembed")
    coll.create(points_of(corpus, sparse=fastembed), sparse=["bm25"])
    before = coll.snapshot()
    argv = ["backfill", *coll.argv, "--vector", "bm25", "--from-field", "text", "--verify", "20"]
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    assert "verified 20 random points: all equal a fresh encoding" in err
    after = coll.snapshot()
    assert without(after, "bm25") == without(before, "bm25")
    qdrant = oracle({})  # Qdrant's own BM25 (the server's code, in qdrant-edge)
    changed = 0
    for pid, p in after.items():
        text = json.loads(p["payload"])["text"]
        server_side = qdrant.embed_document(text)
        assert p["vectors"]["bm25"] == sparse_bytes(
            bm25x.SparseVector(list(server_side.indices), list(server_side.values))
        )
        changed += p["vectors"]["bm25"] != before[pid]["vectors"]["bm25"]
    assert changed == 46  # every document with an identifier, and no other
    record = coll.metadata()["bm25x_vector:bm25"]
    assert record["flavor"] == "qdrant"


def test_the_fastembed_flavour_is_recorded_as_such(tmp_path: Path, capsys: Any) -> None:
    coll = where("edge", tmp_path)
    coll.create(points_of(docs()[:10]))
    argv = ["backfill", *coll.argv, "--vector", "fe", "--from-field", "text", "-q"]
    assert run(capsys, *argv, "--model", "Qdrant/bm25", "-O", "k=1.5")[0] == 0
    record = coll.metadata()["bm25x_vector:fe"]
    assert (record["model"], record["flavor"], record["options"]) == (
        "Qdrant/bm25",
        "fastembed",
        {"k": 1.5},
    )
    text = json.loads(next(iter(coll.snapshot().values()))["payload"])["text"]
    stored = next(iter(coll.snapshot().values()))["vectors"]["fe"]
    assert stored == sparse_bytes(bm25x.Bm25(flavor="fastembed", k=1.5).encode(text))


def _with_problems(corpus: list[Any]) -> list[Any]:
    points = points_of(corpus)
    points[3].payload = {"doc_id": "no-text"}
    points[7].payload["text"] = "   \n"
    points[11].payload["text"] = 42
    points[12].payload["text"] = ["a", "list"]
    points[20].payload = {"doc_id": "nested", "meta": {"body": "nested text"}}
    return points


def test_points_without_the_field_are_counted_and_listed(
    coll: Where, tmp_path: Path, capsys: Any
) -> None:
    points = _with_problems(docs())
    coll.create(points)
    report = tmp_path / "report.jsonl"
    argv = ["backfill", *coll.argv, "--vector", "bm25", "--from-field", "text"]
    status, out, err = run(capsys, *argv, "--report", str(report), "--json", "--page-size", "8")
    assert status == 0, err
    summary = json.loads(out)
    assert (summary["read"], summary["written"]) == (92, 87)
    assert (summary["missing"], summary["empty"], summary["not_text"]) == (2, 1, 2)
    listed = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(listed, key=lambda r: str(r["id"])) == sorted(
        [
            {"id": points[3].id, "problem": "missing"},
            {"id": points[7].id, "problem": "empty"},
            {"id": points[11].id, "problem": "not a string", "found": "number"},
            {"id": points[12].id, "problem": "not a string", "found": "array"},
            {"id": points[20].id, "problem": "missing"},
        ],
        key=lambda r: str(r["id"]),
    )
    assert "5 without a usable field (2 missing, 1 empty, 2 not a string)" in err
    snap = coll.snapshot()
    without_vector = {p.id for i, p in enumerate(points) if i in (3, 7, 11, 12, 20)}
    assert {pid for pid, p in snap.items() if "bm25" not in p["vectors"]} == without_vector

    # A dotted path reads nested payloads.
    argv = ["backfill", *coll.argv, "--vector", "body", "--from-field", "meta.body", "--json"]
    status, out, _ = run(capsys, *argv)
    assert status == 0 and (json.loads(out)["written"], json.loads(out)["missing"]) == (1, 91)
    stored = coll.snapshot()[points[20].id]["vectors"]["body"]
    assert stored == sparse_bytes(bm25x.Bm25().encode("nested text"))


def test_strict_stops_at_the_first_point_and_resumes_once_fixed(coll: Where, capsys: Any) -> None:
    points = points_of(docs())
    points[40].payload = {"doc_id": "no-text"}
    coll.create(points)
    order = sorted(coll.snapshot(), key=id_order)  # Qdrant's id order: integers, then UUIDs
    argv = ["backfill", *coll.argv, "--vector", "bm25", "--from-field", "text", "--strict"]
    argv += ["--page-size", "10", "--checkpoint-every", "0"]
    status, _, err = run(capsys, *argv)
    assert status == 1 and f"point {points[40].id!r}: field 'text' is missing" in err
    page = order.index(points[40].id) // 10
    written = {pid for pid, p in coll.snapshot().items() if "bm25" in p["vectors"]}
    assert written == set(order[: page * 10])  # every page before its page, nothing after

    status, _, err = run(capsys, *argv)  # not fixed: stops again at the same point
    assert status == 1 and f"point {points[40].id!r}" in err
    # Other arguments while it is unfinished are refused.
    status, _, err = run(capsys, *argv[:-4], "--model", "Qdrant/bm25")
    assert status == 2 and "unfinished backfill" in err and "--restart" in err

    coll.set_payload(points[40].id, {"text": "now with text"})
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    assert f"resumed, {92 - page * 10} points read" in err
    assert all("bm25" in p["vectors"] for p in coll.snapshot().values())


def test_an_interrupted_run_resumes_where_it_stopped(
    coll: Where, tmp_path: Path, monkeypatch: Any
) -> None:
    points = _with_problems(docs())
    coll.create(points)
    before = coll.snapshot()
    report = tmp_path / "r.jsonl"
    writes: list[int] = []
    real = _target(coll).write

    def failing(self: Any, ids: Any, name: str, vectors: Any) -> None:
        writes.append(len(ids))
        if len(writes) == 4:
            raise KeyboardInterrupt
        real(self, ids, name, vectors)

    monkeypatch.setattr(_target(coll), "write", failing)
    kwargs: dict[str, Any] = {
        "vector": "bm25",
        "from_field": "text",
        "page_size": 10,
        "workers": 1,
        "report": report,
        "checkpoint_seconds": 3600,
        "quiet": True,
        **coll.target,
    }
    with pytest.raises(KeyboardInterrupt):
        backfill(**kwargs)
    monkeypatch.setattr(_target(coll), "write", real)
    checkpoint = next(v for k, v in coll.metadata().items() if k.startswith("bm25x_backfill:"))
    assert not checkpoint["complete"] and checkpoint["counts"]["read"] == 30

    result = backfill(**kwargs)
    assert result.resumed and result.complete and result.read == 62
    assert result.totals["read"] == 92 and result.totals["written"] == 87
    assert len(report.read_text().splitlines()) == 5  # each point listed once
    after = coll.snapshot()
    assert without(after, "bm25") == before
    enc = bm25x.Bm25()
    for p in points:
        text = p.payload.get("text")
        stored = after[p.id]["vectors"].get("bm25")
        if isinstance(text, str) and text.strip():
            assert stored == sparse_bytes(enc.encode(text))
        else:
            assert stored is None


def _target(coll: Where) -> Any:
    from bm25x.app.backfill.edge import EdgeTarget
    from bm25x.app.backfill.server import ServerTarget

    return EdgeTarget if coll.kind == "edge" else ServerTarget


def test_a_vector_of_another_kind_is_refused(coll: Where, capsys: Any) -> None:
    coll.create(points_of(docs()[:5]))
    argv = ["backfill", *coll.argv, "--vector", "dense", "--from-field", "text"]
    status, _, err = run(capsys, *argv)
    assert status == 2 and "vector 'dense'" in err and "is a dense vector of size 8" in err
    assert "choose another --vector name" in err


def test_usage_errors(capsys: Any, tmp_path: Path) -> None:
    status, _, err = run(capsys, "backfill", "--vector", "v", "--from-field", "t")
    assert status == 2 and "--store DIR or with --url" in err
    status, _, err = run(
        capsys, "backfill", "--store", str(tmp_path), "--vector", "v", "--from-field", "t"
    )
    assert status == 2 and "is not an Edge shard" in err
    with pytest.raises(SystemExit):
        main(["backfill", "--store", "x", "--vector", "v", "--from-field", "t", "--filter", "[1]"])
    assert "must be a JSON object" in capsys.readouterr().err
    with pytest.raises(BackfillError, match="no collection 'nope'"):
        server = LocalQdrant()
        try:
            backfill(url=server.url, collection="nope", vector="v", from_field="t")
        finally:
            server.close()
    with pytest.raises(ValueError, match="dotted path"):
        backfill(store=tmp_path, vector="v", from_field="a..b")
    with pytest.raises(ValueError, match="workers"):
        backfill(store=tmp_path, vector="v", from_field="t", workers=0)
