"""`bm25x backfill` end to end, on an Edge shard and on the REST stand-in of a Qdrant server:
a dense-only collection gains bm25; fastembed-flavour vectors are rewritten in the server's
flavour; points without the field are counted, listed and never given a vector; an
interrupted run resumes; every other vector and every payload stays byte-identical."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import require
from support.backfill import Where, docs, points_of, sparse_bytes, where

import bm25x
from bm25x.app.cli import main

require("qdrant_client")
require("qdrant_edge")

from support.local_qdrant import LocalQdrant

from bm25x.app.backfill import BackfillError, backfill
from bm25x.app.backfill.target import id_order

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


def _with_fields(corpus: list[Any]) -> list[Any]:
    points = points_of(corpus)
    for i, p in enumerate(points):
        p.payload.update(
            lang="en" if i % 3 else "fr",
            n=i,
            tags=["even" if i % 2 == 0 else "odd", f"t{i % 4}"],
            meta={
                "year": 1700 + i,
                "kind": "amendment" if "amendment" in p.payload["doc_id"] else "other",
            },
        )
    return points


def test_filter_only_missing_and_id_range(coll: Where, capsys: Any) -> None:
    points = _with_fields(docs())
    coll.create(points)
    base = ["backfill", *coll.argv, "--from-field", "text", "--json", "-q"]
    english = {"must": [{"key": "lang", "match": {"value": "en"}}]}
    status, out, err = run(capsys, *base, "--vector", "bm25", "--filter", json.dumps(english))
    assert status == 0, err
    en = {p.id for p in points if p.payload["lang"] == "en"}
    assert json.loads(out)["written"] == len(en) == 61
    snap = coll.snapshot()
    assert {pid for pid, p in snap.items() if "bm25" in p["vectors"]} == en

    status, out, _ = run(capsys, *base, "--vector", "bm25", "--only-missing")
    report = json.loads(out)
    assert (report["read"], report["written"], report["skipped"]) == (31, 31, 61)
    after = coll.snapshot()
    assert all("bm25" in p["vectors"] for p in after.values())
    assert {pid: p["vectors"]["bm25"] for pid, p in after.items() if pid in en} == {
        pid: p["vectors"]["bm25"] for pid, p in snap.items() if pid in en
    }  # the points that had it are untouched

    order = sorted(after, key=id_order)
    start, end = order[10], order[50]
    status, out, _ = run(capsys, *base, "--vector", "part", "--id-range", f"{start}:{end}")
    assert status == 0 and json.loads(out)["written"] == 40
    got = {pid for pid, p in coll.snapshot().items() if "part" in p["vectors"]}
    assert got == set(order[10:50])
    status, out, _ = run(capsys, *base, "--vector", "part", "--id-range", f"{end}:")
    assert status == 0 and json.loads(out)["written"] == 42
    # Two parts, two checkpoints: each resumable on its own.
    keys = [k for k in coll.metadata() if k.startswith("bm25x_backfill:part:")]
    assert len(keys) == 2


FILTERS: list[dict[str, Any]] = [
    {"must": [{"key": "lang", "match": {"value": "fr"}}]},
    {"must_not": [{"key": "lang", "match": {"value": "fr"}}]},
    {"should": [{"key": "n", "range": {"lt": 10}}, {"key": "n", "range": {"gte": 80}}]},
    {"must": [{"key": "tags", "match": {"any": ["t1", "t3"]}}]},
    {"must": [{"key": "lang", "match": {"except": ["fr"]}}]},
    {"must": [{"key": "meta.year", "range": {"gt": 1750.5, "lte": 1760}}]},
    {
        "must": [
            {"key": "meta.kind", "match": {"value": "amendment"}},
            {"key": "n", "range": {"gte": 50}},
        ]
    },
    {
        "must": [
            {"must_not": [{"key": "lang", "match": {"value": "en"}}]},
            {"key": "n", "range": {"lt": 40}},
        ]
    },
    {"must": [{"has_id": [0, 5, 10]}]},
    {
        "must": [{"is_empty": {"key": "missing_key"}}],
        "must_not": [{"key": "n", "range": {"gt": 5}}],
    },
    {"must": [{"key": "text", "match": {"text": "jury"}}]},
    {
        "min_should": {
            "conditions": [
                {"key": "lang", "match": {"value": "fr"}},
                {"key": "tags", "match": {"value": "even"}},
                {"key": "n", "range": {"lt": 30}},
            ],
            "min_count": 2,
        }
    },
    {"must": [{"key": "tags", "values_count": {"gte": 2}}, {"key": "n", "range": {"lt": 3}}]},
]


def test_a_filter_selects_the_same_points_in_an_edge_shard_and_on_a_server(
    tmp_path: Path, server: LocalQdrant
) -> None:
    from bm25x.app.backfill.run import open_target

    points = _with_fields(docs())
    edge, remote = where("edge", tmp_path), where("server", tmp_path, server)
    for c in (edge, remote):
        c.create(points)
    targets = [open_target(**edge.target), open_target(**remote.target)]
    try:
        for flt in FILTERS:
            selected = []
            for t in targets:
                records, following = t.scroll(None, 1000, "n", flt, None)
                assert following is None
                selected.append([pid for pid, _ in records])
                assert t.count(flt, None) == len(records)
            assert selected[0] == selected[1], flt
            assert 0 < len(selected[0]) < 92, flt
    finally:
        for t in targets:
            t.close()


def test_a_filter_edge_cannot_read_is_refused_by_name(tmp_path: Path) -> None:
    from bm25x.app.backfill.edge_filter import edge_filter

    with pytest.raises(ValueError, match=r"the filter\.must\[0\]\.geo_polygon is not supported"):
        edge_filter({"must": [{"key": "loc", "geo_polygon": {"exterior": {"points": []}}}]})
    with pytest.raises(ValueError, match="unknown clauses"):
        edge_filter({"mustnt": []})
    with pytest.raises(ValueError, match="match must be one of"):
        edge_filter({"must": [{"key": "a", "match": {"regex": "x"}}]})


def test_a_server_before_1_18_cannot_add_a_vector_and_to_fills_a_copy(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    from bm25x.app.backfill.server import ServerTarget

    old = LocalQdrant(version="1.17.1")
    try:
        coll = where("server", tmp_path, old)
        points = _with_problems(docs())
        coll.create(points)
        before = coll.snapshot()
        argv = ["backfill", *coll.argv, "--vector", "bm25", "--from-field", "text", "--json"]
        status, _, err = run(capsys, *argv)
        assert status == 2
        assert "(version 1.17.1) cannot add a named vector to an existing collection" in err
        assert "needs Qdrant 1.18.0 or later; --to NEW fills a copy instead" in err
        assert coll.snapshot() == before

        # Interrupted on its third page, then run again: the copy resumes.
        real, calls = ServerTarget.write, []

        def failing(self: Any, *args: Any) -> None:
            calls.append(1)
            if len(calls) == 3:
                raise ConnectionError("the network went away")
            real(self, *args)

        monkeypatch.setattr(ServerTarget, "write", failing)
        status, _, err = run(capsys, *argv, "--to", "docs2", "--page-size", "20")
        assert status == 1 and "the network went away" in err
        monkeypatch.setattr(ServerTarget, "write", real)
        status, out, err = run(capsys, *argv, "--to", "docs2", "--page-size", "20")
        assert status == 0, err
        assert json.loads(out)["resumed"] and json.loads(out)["totals"]["written"] == 87

        assert coll.snapshot() == before  # the source is only read
        copy = where("server", tmp_path, old, name="docs2")
        copied = copy.snapshot()
        assert copied.keys() == before.keys()
        for pid, p in before.items():
            assert copied[pid]["payload"] == p["payload"]
            # A Qdrant server leaves a vector that is already of length 1 as it is (within
            # 1e-6, `is_length_zero_or_normalized`), so it copies Cosine vectors bit for bit;
            # qdrant-client's local mode, behind the stand-in, normalises them again, which
            # may move a last bit: here they are equal to float32 rounding.
            (dense,) = p["vectors"]["dense"]
            (copied_dense,) = copied[pid]["vectors"]["dense"]
            assert np.allclose(
                np.frombuffer(copied_dense, np.float32), np.frombuffer(dense, np.float32), rtol=1e-6
            )
        enc = bm25x.Bm25()
        for p in points:
            text = p.payload.get("text")
            stored = copied[p.id]["vectors"].get("bm25")
            ok = isinstance(text, str) and text.strip()
            assert stored == (sparse_bytes(enc.encode(text)) if ok else None)
        meta = copy.metadata()
        assert meta["bm25x_copy"] == {"from": "docs", "vector": "bm25"}
        assert meta["bm25x_vector:bm25"]["model"] == "qdrant/bm25"

        status, _, err = run(capsys, *argv, "--to", "docs2")
        assert status == 0 and "nothing to do" in err
        other = where("server", tmp_path, old, name="other")
        other.create(points[:2])
        status, _, err = run(capsys, *argv, "--to", "other")
        assert status == 2 and "'other' exists and is not a copy of 'docs'" in err
    finally:
        old.close()


def test_to_is_for_servers(tmp_path: Path, capsys: Any) -> None:
    coll = where("edge", tmp_path)
    coll.create(points_of(docs()[:3]))
    argv = ["backfill", *coll.argv, "--vector", "bm25", "--from-field", "text", "--to", "x"]
    status, _, err = run(capsys, *argv)
    assert status == 2 and "gets the vector in place" in err


def test_verify_finds_a_vector_changed_behind_its_back_and_ctrl_c_says_how_to_resume(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    import qdrant_edge as qe

    from bm25x.app.backfill.edge import EdgeTarget

    coll = where("edge", tmp_path)
    points = points_of(docs()[:20])
    coll.create(points)
    argv = ["backfill", *coll.argv, "--vector", "bm25", "--from-field", "text"]
    assert run(capsys, *argv, "-q")[0] == 0
    shard = qe.EdgeShard.load(str(coll.path))
    for p in points:  # every stored vector made wrong
        vec = qe.SparseVector([1, 2], [0.5, 0.25])
        shard.update(qe.UpdateOperation.update_vectors([qe.PointVectors(p.id, {"bm25": vec})]))
    shard.flush()
    shard.close()
    status, _, err = run(capsys, *argv, "--verify", "5")  # finished before: verifies only
    assert status == 1 and "nothing to do" in err and "verified 5 random points: 5 differ" in err
    assert "5 of 5 verified points of vector 'bm25' differ from a fresh encoding" in err

    def interrupted(self: Any, *args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(EdgeTarget, "write", interrupted)
    status, _, err = run(capsys, *argv, "--vector", "other")
    assert status == 130
    assert err.strip().endswith("interrupted; run the same command again to resume")
