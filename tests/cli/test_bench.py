"""The benchmark harness: its derived corpus, its statistics and its option checks (speed itself
is measured in benches/, never asserted here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import require

from bm25x.app.bench import main, short_documents, summarize
from bm25x.app.bench_ingest import generate


def test_short_documents_are_the_paragraphs_that_hold_words() -> None:
    docs = ["Title\n=====\n\nFirst para\ncontinues.\n\n  \n\n---\n\nSecond.", "one"]
    assert short_documents(docs) == ["Title\n=====", "First para\ncontinues.", "Second.", "one"]


def test_summary_is_median_range_and_half_range_spread() -> None:
    med, lo, hi, spread = summarize([10.0, 12.0, 9.0, 11.0, 13.0])
    assert (med, lo, hi) == (11.0, 9.0, 13.0)
    assert spread == pytest.approx(2 / 11)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--threads", "1,x"], "--threads: expected integers"),
        (["--threads", "0"], "--threads: expected positive"),
        (["--processes", "0"], "--processes must be a positive integer"),
        (["--ingest-rounds", "0"], "--ingest-rounds must be a positive integer"),
    ],
)
def test_bad_options_are_named(capsys: Any, argv: list[str], needle: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert needle in capsys.readouterr().err


def test_generated_ingest_corpus_is_deterministic_and_distinct(tmp_path: Path) -> None:
    a = generate(["alpha beta", "gamma"], 5, tmp_path / "a.jsonl").read_text()
    b = generate(["alpha beta", "gamma"], 5, tmp_path / "b.jsonl").read_text()
    assert a == b
    lines = a.splitlines()
    assert lines[0] == '{"id": "d0", "text": "alpha beta 0"}'
    assert lines[3] == '{"id": "d3", "text": "gamma 3"}'
    assert len(set(lines)) == 5


def test_control_hashes_the_corpus_split_over_the_threads() -> None:
    import hashlib

    from bm25x.app.bench import _control

    texts = ["alpha", "beta gamma", "δ"]
    data = "\n".join(texts).encode()
    assert _control(1)(texts) == hashlib.sha256(data).digest()
    half = -(-len(data) // 2)
    assert _control(2)(texts) == [
        hashlib.sha256(data[:half]).digest(),
        hashlib.sha256(data[half:]).digest(),
    ]


def test_url_stand_in_takes_upserts_as_bm25x_sends_them() -> None:
    from support.rest_stand_in import StandInQdrant

    import bm25x
    from bm25x.app.bench_rest_server import ingest_answers
    from bm25x.app.store import QdrantStore

    require("qdrant_client")
    stand_in = StandInQdrant(ingest_answers(2))
    try:
        store = QdrantStore.connect(stand_in.url, "bench")
        batch = bm25x.Bm25().encode(["first text", "second text"])
        store.upsert(["d0", "d1"], [{}, {}], batch, None)
        store.close()  # waits for the write; raises on an unexpected answer
        assert stand_in.requests == ["/collections/bench/points?wait=true"]
    finally:
        stand_in.close()


def test_ingest_rounds_print_medians_and_ratios_per_round(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from contextlib import contextmanager

    import bm25x.app.bench_ingest as bi

    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    # seconds per round for 10 documents, by step
    times = {
        "ingest: encode": iter([1.0, 2.0, 1.0]),
        "ingest: write": iter([4.0, 6.0, 5.0]),
        "ingest: ingest": iter([5.0, 10.0, 5.0]),
        "--url write": iter([1.0, 1.0, 2.0]),
        "qdrant-client REST": iter([5.0, 6.0, 8.0]),
        "qdrant-client gRPC": iter([4.0, 4.0, 4.0]),
        "--url ingest": iter([2.0, 2.0, 2.0]),
    }

    def fake_in_process(label: str, target: Any, *args: Any) -> Any:
        return 10, next(times[label])

    @contextmanager
    def servers(with_url: bool, n: int) -> Any:
        yield "http://127.0.0.1:1", 2

    monkeypatch.setattr(bi, "in_process", fake_in_process)
    monkeypatch.setattr(bi, "_maybe_servers", servers)
    result = bi.run_ingest(["alpha beta"], 10, rounds=3)
    out = capsys.readouterr().out
    assert "3 round(s)" in out
    # write: 4, 6, 5 s -> median 5 s, 2 docs/s; min-max 10/6-10/4 docs/s
    assert "| Edge: write precomputed vectors alone | 10 | 5.00 | 2 | 2-2 |" in out
    # per round: ingest rate / write rate = 4/5, 6/10, 5/5 -> median 0.80 (0.60-1.00)
    assert "| Edge ingest / write alone | 0.80x | 0.60-1.00x |" in out
    # bm25x's writer against qdrant-client REST: 5/1, 6/1, 8/2 -> 5, 6, 4
    assert "| --url write: bm25x / qdrant-client REST | 5.00x | 4.00-6.00x |" in out
    assert result.ratios["url_ingest_vs_url_write"] == [0.5, 0.5, 1.0]
    assert result.as_json()["steps"]["client_grpc"]["seconds"] == [4.0, 4.0, 4.0]


@pytest.mark.parametrize(("threads", "fewest"), [("2", "2 threads"), ("2,4", "2 threads")])
def test_ratios_are_taken_on_the_fewest_threads_measured(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, threads: str, fewest: str
) -> None:
    import bm25x.app.bench as bench

    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "alpha beta"}\n{"id": "b", "text": "gamma"}\n')
    # bm25x takes 1 s on its fewest threads, 0.5 s on more; every other contender 3 s
    seconds = {"bm25x": {1: 1.0, 2: 1.0, 4: 0.5}}

    def fake_measure(name: str, n: int, kind: str, texts: Any, repeat: int) -> tuple[float, float]:
        return seconds.get(name, {}).get(n, 3.0), 1.0

    monkeypatch.setattr(bench, "measure", fake_measure)
    assert main(["--corpus", str(corpus), "--threads", threads, "--processes", "1"]) == 0
    out = capsys.readouterr().out
    assert f"| c.jsonl | documents | bm25x {fewest} vs qdrant-edge (speed-up) | 3.00x |" in out
    assert "| c.jsonl | one short query | bm25x 1 thread vs qdrant-edge (speed-up) | 3.00x |" in out
    if threads == "2,4":
        assert f"| c.jsonl | documents | bm25x 4 threads vs {fewest} | 2.00x |" in out
        # bm25x gains 2x from its extra threads, the control (3 s on both) nothing
        assert "| c.jsonl | documents | bm25x 4-thread gain / control's | 2.00x |" in out
    # the floor (3 s) against bm25x (1 s): bm25x's time is a third of it
    assert "| c.jsonl | one short query | bm25x time / floor time | 0.33x |" in out


def test_the_readme_table_is_made_from_the_json_report(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json

    import bm25x.app.bench as bench
    from bm25x.app.bench_table import karp_flatt, predicted, render

    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "alpha beta"}\n{"id": "b", "text": "gamma"}\n')
    rounds = iter(range(100))
    # bm25x: 1 s on one thread and 0.625 s on two (1.6x); the control 2 s and 1 s (2x);
    # qdrant-edge 3 s, 4 s, 5 s in the three rounds; the floor 0.5 s
    seconds = {("bm25x", 1): 1.0, ("bm25x", 2): 0.625, ("control", 1): 2.0, ("control", 2): 1.0}

    def fake_measure(name: str, n: int, kind: str, texts: Any, repeat: int) -> tuple[float, float]:
        if name == "qdrant-edge":
            return 3.0 + next(rounds) % 3, 1.0
        if name == "floor":
            return 0.5, 1.0
        return seconds.get((name, n), 10.0), 1.0

    monkeypatch.setattr(bench, "measure", fake_measure)
    out = tmp_path / "r.json"
    argv = ["--corpus", str(corpus), "--processes", "3", "--skip", "fastembed,baseline"]
    assert main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["machine"]["cores"] >= 1 and report["machine"]["date"]
    table = render(report, "the command")
    assert "Generated by `the command`." in table
    assert "| bm25x, 1 thread, vs | c.jsonl documents (2) |" in table
    edge = [m for m in report["measurements"] if m["contender"] == "qdrant-edge"]
    assert [m["kind"] for m in edge] == ["documents", "queries", "latency"]
    assert len(edge[0]["seconds"]) == 3
    assert "| bm25x 2 threads vs 1 | 1.60× (1.60–1.60) |" in table
    assert "| control (SHA-256), 2 threads vs 1 | 2.00× (2.00–2.00) |" in table
    assert "| bm25x two-thread gain / the control's | 0.80× (0.80–0.80) |" in table
    assert "bm25x's time over the floor's, per round: 2.00× (2.00–2.00)" in table
    # Karp-Flatt: 2/1.6 - 1 = 0.25 for bm25x, 0 for the control; 16 cores: 1/(0.25 + 0.75/16)
    assert karp_flatt(1.6, 2) == pytest.approx(0.25) and karp_flatt(2.0, 2) == 0.0
    assert f"-> {predicted(0.25, 16):.1f}× on 16 cores" in table
