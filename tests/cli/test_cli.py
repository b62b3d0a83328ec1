"""The `bm25x` command end to end on the embedded stores (Qdrant Edge by default, and
qdrant-client's local mode through the same store interface): ingest, search, resume, encode,
eval, and clear errors for bad files and bad options."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.rest_stand_in import StandInQdrant

import bm25x
from bm25x.app.cli import main
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.corpus import CorpusError, read_docs
from bm25x.app.ingest import ingest
from bm25x.app.search import search
from bm25x.app.store import EdgeStore, Hit, QdrantStore

QUERIES = ["freedom of speech", "trial by jury", "taxes on incomes"]
SAMPLE_SIZE = sum(1 for _ in read_docs(sample_corpus()))


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
    argv = ["demo", "--store", str(tmp_path / "d"), "--json", "freedom of speech and of the press"]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    (result,) = json.loads(out)
    assert result["query"] == "freedom of speech and of the press"
    hits = result["hits"]
    assert len(hits) == 3  # the documents that have one of the words
    assert hits[0]["id"] == "amendment-1" and "freedom of speech" in hits[0]["text"]
    assert f"{SAMPLE_SIZE} documents written" in err


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
    assert settings["complete"] and settings["documents"] == SAMPLE_SIZE

    status, out, err = run(capsys, "search", "--store", store, "--json", "-k", "3", *QUERIES)
    assert status == 0, err
    results = json.loads(out)
    assert [r["query"] for r in results] == QUERIES
    assert "text" not in results[0]["hits"][0]  # text is stored only when asked
    assert all(r["hits"] for r in results)
    assert results[0]["hits"][0]["id"] in {d.id for d in docs if "speech" in d.text}

    status, _, err = run(capsys, "ingest", corpus, "--store", store, "--avg-len", "auto")
    assert status == 0 and f"0 documents written, {SAMPLE_SIZE} already there" in err

    status, _, err = run(capsys, "ingest", corpus, "--store", store, "-O", "k=1.5")
    assert status == 2 and "other settings" in err and "--recreate" in err
    status, _, err = run(capsys, "ingest", corpus, "--store", store, "-O", "k=1.5", "--recreate")
    assert status == 0 and f"{SAMPLE_SIZE} documents written" in err


def test_interrupted_ingest_is_refused_then_resumed(tmp_path: Path, monkeypatch: Any) -> None:
    store = EdgeStore(tmp_path / "shard")
    real = EdgeStore.upsert
    calls = []

    def failing(self: EdgeStore, *args: Any, **kw: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(self, *args, **kw)

    monkeypatch.setattr(EdgeStore, "upsert", failing)
    with pytest.raises(KeyboardInterrupt):
        ingest(store, sample_corpus(), batch_size=40, quiet=True)
    store.close()
    monkeypatch.setattr(EdgeStore, "upsert", real)
    reopened = EdgeStore(tmp_path / "shard")
    with pytest.raises(bm25x.app.store.StoreError, match="did not finish"):
        search(reopened, ["jury"])
    report = ingest(reopened, sample_corpus(), batch_size=40, quiet=True)
    assert (report.written, report.skipped) == (SAMPLE_SIZE - 40, 40)
    assert len(search(reopened, ["Congress"])[0]) == 10
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
    where = tmp_path / "none"
    status, _, err = run(capsys, "search", "--store", str(where), "cats")
    assert status == 2
    assert err == (
        f"bm25x search: error: no Qdrant Edge shard in {where}; create it with "
        f"`bm25x ingest CORPUS --store {where}`\n"
    )


def test_encode_npz(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "v.npz"
    status, _, err = run(capsys, "encode", str(sample_corpus()), "-o", str(out), "-O", "k=1.5")
    assert status == 0, err
    data = np.load(out)
    docs = list(read_docs(sample_corpus()))
    expected = bm25x.Bm25(k=1.5).encode([d.text for d in docs])
    assert npz_ids(data) == [d.id for d in docs]
    got = bm25x.SparseBatch(data["indptr"], data["indices"], data["values"])
    assert got == expected
    status, _, err = run(capsys, "encode", str(sample_corpus()), "-o", str(tmp_path / "v.txt"))
    assert status == 2 and "must end in .npz or .parquet" in err


def npz_ids(data: Any) -> list[str]:
    """The ids of an .npz that `bm25x encode` wrote, read as its -o help says."""
    blob, ends = data["id_utf8"].tobytes(), data["id_offsets"].tolist()
    return [blob[a:b].decode("utf-8") for a, b in pairwise(ends)]


def test_encode_npz_keeps_every_id_exactly_at_their_total_size(tmp_path: Path, capsys: Any) -> None:
    long_id = "x" * 200_000
    ids = ["a", "a\u0000", "\u0000", "é ü", long_id] + [str(i) for i in range(20_000)]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "text": "cats"}) + "\n" for i in ids))
    out = tmp_path / "v.npz"
    status, _, err = run(capsys, "encode", str(corpus), "-o", str(out))
    assert status == 0, err
    with np.load(out) as data:  # allow_pickle is False by default: no object arrays
        assert npz_ids(data) == ids
        assert data["id_offsets"].dtype == np.int64 and data["id_utf8"].dtype == np.uint8
    # the ids cost their own size (about 0.3 MB), not 20,005 x 200,000 characters (15 GiB)
    assert out.stat().st_size < 2_000_000


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
    write(tmp_path / "queries.jsonl", '{"_id": "q1", "text": "trial by jury"}\n')
    relevant = [d.id for d in docs if "jury" in d.text.lower()]
    write(
        tmp_path / "qrels.tsv",
        "query-id\tcorpus-id\tscore\n" + "".join(f"q1\t{c}\t1\n" for c in relevant),
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


@pytest.mark.parametrize("lines_read", [0, 1])
def test_a_closed_output_pipe_ends_the_command_quietly(tmp_path: Path, lines_read: int) -> None:
    # `bm25x search ... | head -1`: the reader goes away, before the command writes a byte or
    # after the first line of an output longer than a pipe holds; the command stops as Unix
    # tools do (status 141, 128 + SIGPIPE) without a "Broken pipe" error or a traceback.
    store = tmp_path / "st"
    assert main(["ingest", str(sample_corpus()), "--store", str(store), "-q"]) == 0
    queries = ["freedom of speech", "trial by jury"] * 1000 if lines_read else ["cookies"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bm25x", "search", *queries, "--store", str(store), "-k", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    for _ in range(lines_read):
        assert proc.stdout.readline()
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    assert err == ""


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

    import bm25x.app.ingest
    import bm25x.app.search

    monkeypatch.setattr(bm25x.app.ingest, "dense_embedder", fake_dense)
    monkeypatch.setattr(bm25x.app.search, "dense_embedder", fake_dense)
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


def test_unreachable_qdrant_url_is_a_one_line_error(capsys: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    status, _, err = run(capsys, "search", "--url", url, "cats")
    assert status == 1 and f"Qdrant at {url}:" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    # qdrant-client's own check (a thread that warns later) is off: the CLI checks itself.
    assert not [t for t in threading.enumerate() if "_check_compatibility" in t.name]


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
    assert status == 0 and json.loads(out)[0]["hits"][0]["id"] == "a"
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
    from bm25x.app.bench import measure

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


# --- --url against a local stand-in for a Qdrant server ---------------------------------------


class FakeQdrant(StandInQdrant):
    """Answers the root endpoint with a server version and says no collection exists; records
    the paths it was asked for."""

    def __init__(self, version: str) -> None:
        def answer(method: str, path: str) -> dict[str, Any] | None:
            if method != "GET":
                return None
            if path == "/":
                return {"title": "qdrant", "version": version}
            if path.endswith("/exists"):
                return {"result": {"exists": False}, "status": "ok", "time": 0.0}
            return None

        super().__init__(answer)


def _client_version() -> tuple[str, int, int]:
    from importlib.metadata import version

    full = version("qdrant-client")
    major, minor = (int(x) for x in full.split(".")[:2])
    return full, major, minor


def test_a_server_version_far_from_the_client_is_one_line(capsys: Any) -> None:
    full, major, minor = _client_version()
    server = FakeQdrant(f"{major}.{minor + 2}.3")
    try:
        status, out, err = run(
            capsys, "search", "--url", server.url, "--collection", "nonexistent", "cats"
        )
    finally:
        server.close()
    assert status == 2 and out == ""
    warning, error = err.splitlines()
    assert error.startswith("bm25x search: error: no collection 'nonexistent' at")
    assert warning == (
        f"bm25x search: warning: qdrant-client {full} is more than one minor version from the "
        f"Qdrant server at {server.url} ({major}.{minor + 2}.3); if a request fails, install a "
        f"matching client: pip install 'qdrant-client~={major}.{minor + 2}.0'"
    )
    assert "UserWarning" not in err
    assert server.requests.count("/") == 1  # asked once, by bm25x, not by a client thread
    assert not [t for t in threading.enumerate() if "_check_compatibility" in t.name]


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_a_server_within_one_minor_version_is_not_reported(capsys: Any, delta: int) -> None:
    _, major, minor = _client_version()
    server = FakeQdrant(f"{major}.{minor + delta}.7")
    try:
        status, _, err = run(capsys, "search", "--url", server.url, "cats")
    finally:
        server.close()
    assert status == 2 and len(err.splitlines()) == 1 and "warning" not in err
    assert server.requests.count("/") == 1


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
def test_missing_server_collection_names_it_and_how_to_create_it(capsys: Any) -> None:
    _, major, minor = _client_version()
    server = FakeQdrant(f"{major}.{minor}.0")
    secret = "sekrit-0123456789"
    port = server.url.rsplit(":", 1)[1]
    url = f"http://user:{secret}@127.0.0.1:{port}/?api_key={secret}"
    try:
        argv = ["--url", url, "--api-key", secret, "--collection", "nonexistent", "cats"]
        status, out, err = run(capsys, "search", *argv)
    finally:
        server.close()
    assert status == 2 and out == ""
    assert err == (
        f"bm25x search: error: no collection 'nonexistent' at http://127.0.0.1:{port}/; create "
        f"it with `bm25x ingest CORPUS --url http://127.0.0.1:{port}/ --collection nonexistent`\n"
    )
    assert "/collections/nonexistent/exists" in server.requests
    assert secret not in err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://localhost:6333", "http://localhost:6333"),
        ("https://u:p@[::1]:6334/base?key=k#f", "https://[::1]:6334/base"),
        ("http://host:notaport", "<the given URL>"),
    ],
)
def test_public_url_drops_credentials(url: str, shown: str) -> None:
    from bm25x.app.store import public_url

    assert public_url(url) == shown


# --- scores --------------------------------------------------------------------------------------


def test_a_score_prints_alike_however_it_arrived() -> None:
    from types import SimpleNamespace

    from bm25x.app.cli.output import score_text
    from bm25x.app.store.points import _hit

    exact = float(np.float32(12.038683))  # what qdrant-edge hands over: 12.03868293762207
    rest = 12.038683  # what a server's JSON says for the same float32
    assert exact != rest
    hits = [_hit(SimpleNamespace(id=1, score=s, payload={"doc_id": "a"})) for s in (exact, rest)]
    assert hits[0] == hits[1] and repr(hits[0].score) == "12.038683"
    assert [score_text(s) for s in (exact, rest)] == ["12.038683", "12.038683"]
    assert score_text(float(np.float32(0.1))) == "0.1" and score_text(3.0) == "3.0"
    assert score_text(float(np.float32(1e-7))) == "1e-07"


SCORED = "".join(
    json.dumps({"_id": f"d{i}", "text": text}) + "\n"
    for i, text in enumerate(
        [
            "cats purr when they are content",
            "a cat purrs and purrs and purrs",
            "dogs bark at cats",
            "the purr of a big cat in the long grass of the savanna at dusk",
            "volcanoes erupt",
        ]
    )
)


def test_both_stores_print_the_same_output(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    from qdrant_client import QdrantClient

    queries = ["cat purrs", "dogs"]
    corpus = write(tmp_path / "c.jsonl", SCORED)
    store = ["--store", str(tmp_path / "s")]
    assert run(capsys, "ingest", corpus, *store, "-q", "--store-text")[0] == 0
    status, out, err = run(capsys, "search", *store, "--json", *queries)
    assert status == 0, err
    # The float32 scores qdrant-edge computed, per query and document.
    edge = [{h["id"]: float(np.float32(h["score"])) for h in r["hits"]} for r in json.loads(out)]
    assert len({s for scores in edge for s in scores.values()}) == 5  # no ties: one order

    # qdrant-client's local mode stands in for a server behind --url. Its numpy scoring can
    # differ from the server's Rust by an ulp, so its answers carry the scores a server would
    # send for this data: the same float32s (the server scores with the code qdrant-edge
    # runs), as the shortest JSON text (12.038683), parsed by qdrant-client.
    client = QdrantClient(":memory:")
    real = client.query_batch_points

    def served(collection: str, requests: Any) -> Any:
        responses = real(collection, requests)
        for scores, response in zip(edge, responses):
            for point in response.points:
                point.score = json.loads(str(np.float32(scores[point.payload["doc_id"]])))
        return responses

    monkeypatch.setattr(client, "query_batch_points", served)
    monkeypatch.setattr(
        QdrantStore, "connect", classmethod(lambda cls, url, name, key=None: cls(client, name))
    )
    url = ["--url", "http://qdrant.invalid:6333"]
    assert run(capsys, "ingest", corpus, *url, "-q", "--store-text")[0] == 0
    for shape in ([], ["--json"]):
        printed = []
        for where in (store, url):
            status, out, err = run(capsys, "search", *where, *shape, *queries)
            assert status == 0, err
            printed.append(out)
        assert printed[0] == printed[1]
    results = json.loads(printed[0])
    scores = [h["score"] for r in results for h in r["hits"]]
    assert [np.float32(s) for s in scores] == [s for found in edge for s in found.values()]
    assert all(repr(s) == str(np.float32(s)) for s in scores)  # shortest float32 text
    status, table, _ = run(capsys, "search", *store, *queries)
    assert all(f"  {s!r}  " in table for s in scores), table  # the JSON text


def test_json_is_a_list_for_one_query_too(tmp_path: Path, capsys: Any) -> None:
    corpus = write(tmp_path / "c.jsonl", SCORED)
    store = str(tmp_path / "s")
    assert run(capsys, "ingest", corpus, "--store", store, "-q")[0] == 0
    status, out, _ = run(capsys, "search", "--store", store, "--json", "volcanoes")
    assert status == 0
    results = json.loads(out)
    assert isinstance(results, list) and len(results) == 1
    assert results[0]["query"] == "volcanoes"
    assert [(h["rank"], h["id"]) for h in results[0]["hits"]] == [(1, "d4")]
