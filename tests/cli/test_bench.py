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
    import bm25x
    from bm25x.app.bench_ingest import _completed
    from bm25x.app.stand_in import StandInQdrant
    from bm25x.app.store import QdrantStore

    require("qdrant_client")
    stand_in = StandInQdrant(_completed)
    try:
        store = QdrantStore.connect(stand_in.url, "bench")
        batch = bm25x.Bm25().encode(["first text", "second text"])
        store.upsert(["d0", "d1"], [{}, {}], batch, None)
        store.close()  # waits for the write; raises on an unexpected answer
        assert stand_in.requests == ["/collections/bench/points?wait=true"]
    finally:
        stand_in.close()


def test_ingest_rounds_print_medians_and_a_ratio_per_round(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import bm25x.app.bench_ingest as bi

    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    times = iter([1.0, 4.0, 5.0, 2.0, 6.0, 10.0, 1.0, 5.0, 5.0])  # encode, write, ingest x3

    def fake_in_process(label: str, target: Any, *args: Any) -> Any:
        return (10, 1.0) if "HTTP" in label else next(times)

    monkeypatch.setattr(bi, "in_process", fake_in_process)
    bi.run_ingest(["alpha beta"], 10, rounds=3)
    out = capsys.readouterr().out
    assert "3 round(s)" in out
    # write: 4, 6, 5 s -> median 5 s, 2 docs/s; min-max 10/6-10/4 docs/s
    assert "| write precomputed vectors alone | 5.0 | 2 | 2-2 |" in out
    # per round: max(encode, write) / ingest = 4/5, 6/10, 5/5 -> median 0.80 (0.60-1.00)
    assert "per round: 0.80 (0.60-1.00)" in out


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
