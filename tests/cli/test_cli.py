"""The `bm25x` command end to end on the embedded stores (Qdrant Edge by default, and
qdrant-client's local mode through the same store interface): ingest, search, resume, encode,
eval, and clear errors for bad files and bad options."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bm25x
from bm25x._cli import main, sample_corpus
from bm25x._corpus import CorpusError, read_docs
from bm25x._ingest import ingest
from bm25x._search import search
from bm25x._store import EdgeStore, Hit, QdrantStore

QUERIES = ["how do volcanoes erupt", "python generators and type hints", "dark roast coffee"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def same_ranking(a: list[Hit], b: list[Hit]) -> None:
    """Equal scores (to float32 rounding) and equal documents, ties in any order."""
    assert len(a) == len(b)
    assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-5)
    last = round(a[-1].score, 4)
    assert {h.id for h in a if round(h.score, 4) > last} == {
        h.id for h in b if round(h.score, 4) > last
    }


def test_demo_ingests_and_finds_the_topic(tmp_path: Path, capsys: Any) -> None:
    status, out, err = run(capsys, "demo", "--store", str(tmp_path / "d"), "--json", "cats purr")
    assert status == 0, err
    hits = json.loads(out)["hits"]
    assert len(hits) == 5
    assert all(h["text"].startswith("Cats ") for h in hits)
    assert "300 documents written" in err


def test_ingest_search_resume(tmp_path: Path, capsys: Any) -> None:
    store = str(tmp_path / "shard")
    corpus = str(sample_corpus())
    status, _, err = run(capsys, "ingest", corpus, "--store", store, "--avg-len", "auto", "-q")
    assert status == 0, err
    settings = json.loads((tmp_path / "shard" / "bm25x.json").read_text())
    enc = bm25x.Bm25()
    docs = list(read_docs(sample_corpus()))
    mean = sum(len(enc.terms(d.text)) for d in docs) / len(docs)
    assert settings["options"]["avg_len"] == pytest.approx(mean)
    assert settings["complete"] and settings["documents"] == 300

    status, out, err = run(capsys, "search", "--store", store, "--json", "-k", "3", *QUERIES)
    assert status == 0, err
    results = json.loads(out)
    assert [r["query"] for r in results] == QUERIES
    assert "text" not in results[0]["hits"][0]  # text is stored only when asked
    assert all(r["hits"] for r in results)
    assert results[0]["hits"][0]["id"] in {d.id for d in docs if "erupt" in d.text}

    status, _, err = run(capsys, "ingest", corpus, "--store", store, "--avg-len", "auto")
    assert status == 0 and "0 documents written, 300 already there" in err

    status, _, err = run(capsys, "ingest", corpus, "--store", store, "-O", "k=1.5")
    assert status == 2 and "other settings" in err and "--recreate" in err
    status, _, err = run(capsys, "ingest", corpus, "--store", store, "-O", "k=1.5", "--recreate")
    assert status == 0 and "300 documents written" in err


def test_interrupted_ingest_is_refused_then_resumed(tmp_path: Path, monkeypatch: Any) -> None:
    store = EdgeStore(tmp_path / "shard")
    real = EdgeStore.upsert
    calls = []

    def failing(self: EdgeStore, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(self, *args)

    monkeypatch.setattr(EdgeStore, "upsert", failing)
    with pytest.raises(KeyboardInterrupt):
        ingest(store, sample_corpus(), batch_size=100, quiet=True)
    store.close()
    monkeypatch.setattr(EdgeStore, "upsert", real)
    reopened = EdgeStore(tmp_path / "shard")
    with pytest.raises(bm25x._store.StoreError, match="did not finish"):
        search(reopened, ["cats"])
    report = ingest(reopened, sample_corpus(), batch_size=100, quiet=True)
    assert (report.written, report.skipped) == (200, 100)
    assert len(search(reopened, ["cats"])[0]) == 10
    reopened.close()


def test_edge_and_qdrant_client_give_the_same_results(tmp_path: Path) -> None:
    from qdrant_client import QdrantClient

    edge = EdgeStore(tmp_path / "edge")
    local = QdrantStore(QdrantClient(":memory:"), "sample")
    for store in (edge, local):
        ingest(store, sample_corpus(), avg_len="auto", store_text=True, quiet=True)
    for a, b in zip(search(edge, QUERIES), search(local, QUERIES)):
        same_ranking(a, b)
    assert local.settings() == edge.settings()
    edge.close()


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"_id": "a", "text": "x"}\n{"_id": "b", "text": "y"}\n{"_id": "c", "text": }\n',
         "line 3: not valid JSON"),
        ('{"_id": "a", "body": "x"}\n', "line 1: no text field 'text' (fields present: '_id'"),
        ('{"_id": "a", "text": 5}\n', "line 1: field 'text' must be a string, got int"),
        ('{"_id": "a", "text": "x"}\n{"_id": "a", "text": "y"}\n', "line 2: id 'a' repeats line 1"),
        ('["a", "b"]\n', "line 1: expected a JSON object, got list"),
        ('{"_id": [1], "text": "x"}\n', "line 1: the id must be a string or an integer"),
    ],
)  # fmt: skip
def test_bad_files_are_reported_and_nothing_is_written(
    tmp_path: Path, capsys: Any, content: str, message: str
) -> None:
    corpus = write(tmp_path / "bad.jsonl", content)
    status, _, err = run(capsys, "ingest", corpus, "--store", str(tmp_path / "s"))
    assert status == 2
    assert message in err
    assert not (tmp_path / "s").exists()


def test_csv_input_and_bad_csv(tmp_path: Path, capsys: Any) -> None:
    good = write(tmp_path / "c.csv", 'id,text\n1,"cats purr, softly"\n2,dogs bark\n')
    assert [(d.id, d.text) for d in read_docs(Path(good))] == [
        ("1", "cats purr, softly"),
        ("2", "dogs bark"),
    ]
    bad = write(tmp_path / "b.csv", "id,text\n1,a,extra\n")
    status, _, err = run(capsys, "encode", bad, "-o", str(tmp_path / "o.npz"))
    assert status == 2 and "line 2: more columns than the header" in err
    with pytest.raises(CorpusError, match="unknown corpus format"):
        list(read_docs(tmp_path / "x.txt"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-O", "k=-1"], "k"),
        (["-O", "avglen=3"], "avglen"),
        (["--options", "[1]"], "--options must be a JSON object"),
        (["--flavor", "fastembed", "-O", "tokenizer=word"], "tokenizer"),
    ],
)
def test_bad_options_are_reported(
    tmp_path: Path, capsys: Any, argv: list[str], message: str
) -> None:
    status, _, err = run(
        capsys, "ingest", str(sample_corpus()), "--store", str(tmp_path / "s"), *argv
    )
    assert status == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_bad_avg_len_is_a_usage_error(capsys: Any) -> None:
    with pytest.raises(SystemExit) as e:
        main(["ingest", "x.jsonl", "--avg-len", "often"])
    assert e.value.code == 2
    assert "expected a number or 'auto'" in capsys.readouterr().err


def test_search_without_a_collection(tmp_path: Path, capsys: Any) -> None:
    status, _, err = run(capsys, "search", "--store", str(tmp_path / "none"), "cats")
    assert status == 2 and "run `bm25x ingest` first" in err


def test_encode_npz(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "v.npz"
    status, _, err = run(capsys, "encode", str(sample_corpus()), "-o", str(out), "-O", "k=1.5")
    assert status == 0, err
    data = np.load(out)
    docs = list(read_docs(sample_corpus()))
    expected = bm25x.Bm25(k=1.5).encode([d.text for d in docs])
    assert data["ids"].tolist() == [d.id for d in docs]
    got = bm25x.SparseBatch(data["indptr"], data["indices"], data["values"])
    assert got == expected
    status, _, err = run(capsys, "encode", str(sample_corpus()), "-o", str(tmp_path / "v.txt"))
    assert status == 2 and "must end in .npz or .parquet" in err


def test_encode_parquet(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "v.parquet"
    status, _, err = run(capsys, "encode", str(sample_corpus()), "-o", str(out), "--query")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        assert status == 2 and "needs pyarrow" in err and not out.exists()
        return
    assert status == 0, err
    table = pq.read_table(out).to_pydict()
    first = next(read_docs(sample_corpus()))
    assert table["id"][0] == first.id
    assert table["indices"][0] == bm25x.Bm25().encode_query(first.text).indices.tolist()
    # And Parquet in: the vectors file has no text column.
    status, _, err = run(capsys, "encode", str(out), "-o", str(tmp_path / "w.npz"))
    assert status == 2 and "no text field" in err


def test_eval_on_a_small_beir_folder(tmp_path: Path, capsys: Any) -> None:
    docs = list(read_docs(sample_corpus()))[:60]
    write(
        tmp_path / "corpus.jsonl",
        "".join(json.dumps({"_id": d.id, "text": d.text}) + "\n" for d in docs),
    )
    write(tmp_path / "queries.jsonl", '{"_id": "q1", "text": "why do cats purr"}\n')
    cats = [d.id for d in docs if "purr" in d.text]
    write(
        tmp_path / "qrels.tsv",
        "query-id\tcorpus-id\tscore\n" + "".join(f"q1\t{c}\t1\n" for c in cats),
    )
    status, out, err = run(capsys, "eval", str(tmp_path), "--json")
    assert status == 0, err
    report = json.loads(out)
    assert report["queries"] == 1 and report["documents"] == 60
    assert report["recall_at_100"] == 1.0 and report["ndcg_at_10"] > 0.9


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bm25x", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"bm25x {bm25x.__version__}"


def fake_dense(model: str) -> Any:
    """A deterministic 8-dimensional 'model': letter counts folded into 8 buckets."""

    def run(texts: list[str], query: bool) -> Any:
        out = np.zeros((len(texts), 8), np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if ch.isalpha():
                    out[i, ord(ch) % 8] += 1.0
        return out + 0.01

    return run


def test_hybrid_with_a_dense_model_on_both_backends(tmp_path: Path, monkeypatch: Any) -> None:
    from qdrant_client import QdrantClient

    import bm25x._ingest
    import bm25x._search

    monkeypatch.setattr(bm25x._ingest, "dense_embedder", fake_dense)
    monkeypatch.setattr(bm25x._search, "dense_embedder", fake_dense)
    edge = EdgeStore(tmp_path / "edge")
    local = QdrantStore(QdrantClient(":memory:"), "hybrid")
    for store in (edge, local):
        report = ingest(store, sample_corpus(), dense_model="fake/letters", quiet=True)
        assert report.settings["dense_size"] == 8
    for a, b in zip(search(edge, QUERIES), search(local, QUERIES)):
        assert len(a) == 10
        assert [h.score for h in a] == pytest.approx([h.score for h in b])
    edge.close()


def test_dense_model_without_a_provider_is_a_clear_error(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.delattr(bm25x, "embed", raising=False)
    argv = ["ingest", str(sample_corpus()), "--store", str(tmp_path / "s")]
    status, _, err = run(capsys, *argv, "--dense-model", "some/model")
    assert status == 2 and "dense model 'some/model' is not available" in err
    assert not (tmp_path / "s").exists()


# -- bad input found in review: named lines, one-line errors, no tracebacks, no hangs ----------


def test_non_utf8_is_reported_with_its_line(tmp_path: Path, capsys: Any) -> None:
    lines = [json.dumps({"_id": str(i), "text": "hello world"}) for i in range(5000)]
    corpus = tmp_path / "latin1.jsonl"
    corpus.write_bytes(("\n".join(lines) + "\n").encode() + b'{"_id": "x", "text": "caf\xe9"}\n')
    status, _, err = run(capsys, "ingest", str(corpus), "--store", str(tmp_path / "s"))
    assert status == 2
    assert "latin1.jsonl line 5001: not UTF-8 text (byte b'\\xe9' at column 26)" in err
    assert not (tmp_path / "s").exists()
    qrels = tmp_path / "qrels.tsv"
    qrels.write_bytes(b"q1\td1\t1\nq\xff\td2\t1\n")
    status, _, err = run(capsys, "encode", str(qrels), "-o", str(tmp_path / "o.npz"))
    assert status == 2 and "qrels.tsv line 2: not UTF-8 text" in err


def test_lone_surrogate_escape_is_reported_with_its_line(tmp_path: Path, capsys: Any) -> None:
    corpus = write(
        tmp_path / "s.jsonl", '{"_id": "a", "text": "ok"}\n{"_id": "b", "text": "x\\ud800"}\n'
    )
    status, _, err = run(capsys, "encode", corpus, "-o", str(tmp_path / "o.npz"))
    assert status == 2 and "line 2: field 'text' holds a lone surrogate" in err


def test_corrupt_gzip_is_a_one_line_error(tmp_path: Path, capsys: Any) -> None:
    import gzip

    data = gzip.compress(b'{"_id": "a", "text": "hello"}\n' * 1000)
    corpus = tmp_path / "c.jsonl.gz"
    corpus.write_bytes(data[:30] + bytes(b ^ 0x55 for b in data[30:60]) + data[60:])
    status, _, err = run(capsys, "encode", str(corpus), "-o", str(tmp_path / "o.npz"))
    assert status == 2 and "c.jsonl.gz: cannot read" in err
    assert not (tmp_path / "o.npz").exists()


def test_csv_with_a_long_field_is_read(tmp_path: Path, capsys: Any) -> None:
    long_text = "cookies " * 50_000  # over the csv module's default 128 KiB field limit
    corpus = write(tmp_path / "long.csv", f'id,text\n1,"{long_text}"\n2,short\n')
    assert [len(d.text) for d in read_docs(Path(corpus))] == [len(long_text), 5]


def test_empty_corpus_is_an_error_for_encode_too(tmp_path: Path, capsys: Any) -> None:
    corpus = write(tmp_path / "empty.jsonl", "")
    status, _, err = run(capsys, "encode", corpus, "-o", str(tmp_path / "o.npz"))
    assert status == 2 and "empty.jsonl: no documents" in err
    assert not (tmp_path / "o.npz").exists()


def test_unknown_dense_model_is_a_one_line_error(tmp_path: Path, capsys: Any) -> None:
    argv = ["ingest", str(sample_corpus()), "--store", str(tmp_path / "s")]
    status, _, err = run(capsys, *argv, "--dense-model", "no-such-vendor-model")
    assert status == 1 and "no provider serves model 'no-such-vendor-model'" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.filterwarnings("ignore:Failed to obtain server version")
def test_unreachable_qdrant_url_is_a_one_line_error(capsys: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    status, _, err = run(capsys, "search", "--url", url, "cats")
    assert status == 1 and f"Qdrant at {url}:" in err and "Traceback" not in err
    # qdrant-client's version check warns from a thread: let it finish inside this test.
    for thread in threading.enumerate():
        if "_check_compatibility" in thread.name:
            thread.join(timeout=30)


def test_damaged_store_is_reported_and_recreate_rebuilds_it(tmp_path: Path, capsys: Any) -> None:
    corpus = write(tmp_path / "c.jsonl", '{"_id": "a", "text": "cats purr"}\n')
    store = tmp_path / "s"
    assert run(capsys, "ingest", corpus, "--store", str(store), "-q")[0] == 0
    (store / "shard" / "edge_config.json").write_text("garbage")
    status, _, err = run(capsys, "search", "--store", str(store), "cats")
    assert status == 2 and "cannot open the shard" in err and "--recreate" in err
    status, _, err = run(capsys, "ingest", corpus, "--store", str(store), "-q", "--recreate")
    assert status == 0, err
    status, out, _ = run(capsys, "search", "--store", str(store), "--json", "cats")
    assert status == 0 and json.loads(out)["hits"][0]["id"] == "a"
    (store / "bm25x.json").write_text("[1, 2]")
    status, _, err = run(capsys, "search", "--store", str(store), "cats")
    assert status == 2 and "not a bm25x settings object" in err


def test_eval_without_judged_queries(tmp_path: Path, capsys: Any) -> None:
    write(tmp_path / "corpus.jsonl", '{"_id": "a", "text": "cats"}\n')
    write(tmp_path / "queries.jsonl", '{"_id": "q", "text": "cats"}\n')
    write(tmp_path / "qrels_test.tsv", "query-id\tcorpus-id\tscore\n")
    status, _, err = run(capsys, "eval", str(tmp_path))
    assert status == 2 and "qrels_test.tsv: no judged queries" in err


def test_bench_reports_a_dead_worker_instead_of_hanging() -> None:
    from bm25x._bench import measure

    with pytest.raises(ChildProcessError, match="no-such-encoder exited with code 1"):
        measure("no-such-encoder", 1, "documents", ["x"], 1)


def test_batch_size_must_be_positive(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "v.npz"
    with pytest.raises(SystemExit) as exit_info:
        main(["encode", str(sample_corpus()), "-o", str(out), "--batch-size", "0"])
    assert exit_info.value.code == 2
    assert "expected a positive integer, got 0" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("skip", "needle"), [("bm25x", "cannot be skipped"), ("edge", "unknown")])
def test_bench_skip_is_checked_first(capsys: Any, skip: str, needle: str) -> None:
    status, _, err = run(capsys, "bench", "--skip", skip, "--limit", "5")
    assert status != 0 and needle in err


def test_threads_given_as_an_option_is_the_threads_flag(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "v.npz"
    status, _, err = run(capsys, "encode", str(sample_corpus()), "-o", str(out), "-O", "threads=2")
    assert status == 0, err
    docs = [d.text for d in read_docs(sample_corpus())]
    got = bm25x.SparseBatch(*(np.load(out)[k] for k in ("indptr", "indices", "values")))
    assert got == bm25x.Bm25().encode(docs)
    args = ("encode", str(sample_corpus()), "-o", str(out), "-O", "threads=2", "--threads", "3")
    status, _, err = run(capsys, *args)
    assert status == 2 and "threads given twice" in err
