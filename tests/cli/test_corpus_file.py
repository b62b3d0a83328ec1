"""Ingest reads its corpus twice (a checking pass, then the write), so the file must be one
that gives the same bytes twice: a named pipe is refused at once, an edit between the two
passes is refused before the store is touched, and a change the write pass meets stops it
before any document the check did not see is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bm25x.app.corpus.native as corpus_native
import bm25x.app.corpus.read as corpus_read
import bm25x.app.corpus_file as corpus_file
import bm25x.app.ingest as ingest_module
from bm25x.app.cli import main
from bm25x.app.corpus import CorpusError, check_docs, read_docs
from bm25x.app.corpus_file import CorpusFile
from bm25x.app.ingest import ingest
from bm25x.app.store import EdgeStore

N = 600
"""Documents in the test corpora: several blocks of 4 KiB (the block size these tests use)."""

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def write_corpus(path: Path, prefix: str = "d") -> Path:
    if path.suffix == ".csv":
        path.write_text("id,text\n" + "".join(f"{prefix}{i:03},cats purr {i}\n" for i in range(N)))
    else:
        path.write_text(
            "".join(
                json.dumps({"id": f"{prefix}{i:03}", "text": f"cats purr {i}"}) + "\n"
                for i in range(N)
            )
        )
    return path


@needs_fifo
def test_a_named_pipe_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    pipe = tmp_path / "c.jsonl"
    os.mkfifo(pipe)
    # a subprocess, so that a regression (waiting for a writer) fails by timeout, not a hang
    done = subprocess.run(
        [sys.executable, "-m", "bm25x", "ingest", str(pipe), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"bm25x ingest: error: {pipe} is a named pipe, not a file: ingest reads the corpus "
        "twice (once to check every document, then to write them), so it must be a regular "
        "file; save the stream to a file first\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]  # no store, no lock


def test_a_directory_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").mkdir()
    with pytest.raises(CorpusError, match=r"c\.jsonl is a directory, not a file"):
        CorpusFile(tmp_path / "c.jsonl")


@needs_fifo
def test_encode_reads_a_named_pipe_once(tmp_path: Path, capsys: Any) -> None:
    pipe = tmp_path / "c.jsonl"
    os.mkfifo(pipe)
    text = "".join(json.dumps({"id": f"d{i}", "text": "cats"}) + "\n" for i in range(5))

    def feed() -> None:
        with open(pipe, "w", encoding="utf-8") as f:
            f.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert main(["encode", str(pipe), "-o", str(tmp_path / "v.npz"), "-q"]) == 0
    finally:
        writer.join(timeout=60)


def edit_after_check(monkeypatch: pytest.MonkeyPatch, edit: Callable[[Path], None]) -> None:
    """Make ``edit`` change the corpus right after ingest's checking pass."""
    real = ingest_module.check_docs

    def check_then_edit(path: Path, **kw: Any) -> int:
        n = real(path, **kw)
        edit(path)
        return n

    monkeypatch.setattr(ingest_module, "check_docs", check_then_edit)


def test_an_edit_between_the_passes_is_refused_before_the_store_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl")
    edit_after_check(monkeypatch, lambda p: p.write_text(p.read_text() + "not json\n"))
    store = EdgeStore(tmp_path / "s")
    with pytest.raises(CorpusError, match=r"c\.jsonl changed after it was checked .* nothing"):
        ingest(store, corpus, quiet=True)
    store.close()
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("name", "native"), [("c.jsonl", True), ("c.jsonl", False), ("c.csv", False)]
)
def test_a_change_the_write_pass_meets_stops_it_before_any_unchecked_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, native: bool
) -> None:
    monkeypatch.setattr(corpus_file, "BLOCK", 4096)
    monkeypatch.setattr(corpus_native, "_CHUNK", 1024)  # the native reader's reads
    monkeypatch.setattr(ingest_module, "_SAMPLE", 10)  # texts read to estimate the disk space
    if not native:
        monkeypatch.setattr(corpus_read, "_JsonlReader", None)
    corpus = write_corpus(tmp_path / name)
    data = corpus.read_bytes()
    at = data.index(b"d500")  # in the third block or later

    def same_size_same_time(path: Path) -> None:
        # an edit that keeps the size and the modification time: only the bytes tell
        st = path.stat()
        path.write_bytes(data[:at] + b"z500" + data[at + 4 :])
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    edit_after_check(monkeypatch, same_size_same_time)
    store = EdgeStore(tmp_path / "s")
    block = at // 4096 * 4096
    with pytest.raises(CorpusError) as e:
        ingest(store, corpus, batch_size=16, quiet=True)
    store.close()
    assert str(e.value) == (
        f"{corpus} changed while it was being ingested: from byte {block:,} on it is not what "
        "the check read, so the ingest stopped before writing any document from there "
        "(documents before it may have been written). Once the file no longer changes, run the "
        "same command again: it checks the file again and resumes"
    )
    store = EdgeStore(tmp_path / "s")
    settings = store.settings()
    assert settings is not None and not settings["complete"]
    assert store.existing(["z500", "d000"]).keys() == {"d000"} and 0 < store.count() < 500
    store.close()
    # run again once the file stays as it is: checked again, finished
    monkeypatch.undo()
    store = EdgeStore(tmp_path / "s")
    report = ingest(store, corpus, batch_size=16, quiet=True)
    store.close()
    assert report.documents == N and report.settings["complete"]


def test_a_file_that_grows_or_shrinks_in_the_write_pass_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpus_file, "BLOCK", 4096)
    corpus = write_corpus(tmp_path / "c.jsonl")
    size = corpus.stat().st_size
    for edit in (b"\n" * 5000, b""):  # grown by more than a block; cut at a block's end
        source = CorpusFile(corpus)
        assert check_docs(corpus, source=source) == N
        data = corpus.read_bytes()[:size]
        corpus.write_bytes(data + edit if edit else data[: size // 4096 * 4096])
        with pytest.raises(CorpusError, match="changed while it was being ingested"):
            list(read_docs(corpus, source=source))
        corpus.write_bytes(data)


def test_a_gzipped_file_is_compared_as_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    monkeypatch.setattr(corpus_file, "BLOCK", 4096)
    corpus = tmp_path / "c.jsonl.gz"
    corpus.write_bytes(gzip.compress(write_corpus(tmp_path / "c.jsonl").read_bytes(), mtime=0))
    source = CorpusFile(corpus)
    assert check_docs(corpus, source=source) == N
    assert [d.id for d in read_docs(corpus, source=source)] == [f"d{i:03}" for i in range(N)]
    packed = bytearray(corpus.read_bytes())
    packed[-9] ^= 1  # a bit of the CRC in the gzip trailer: the text is the same, the file not
    corpus.write_bytes(bytes(packed))
    with pytest.raises(CorpusError, match="changed while it was being ingested"):
        list(read_docs(corpus, source=source))


def test_a_parquet_file_replaced_between_the_passes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support import require

    pa = require("pyarrow")
    import pyarrow.parquet as pq

    corpus = tmp_path / "c.parquet"

    def write(prefix: str) -> None:
        ids = [f"{prefix}{i}" for i in range(N)]
        pq.write_table(pa.table({"id": ids, "text": ["cats"] * N}), corpus)

    write("d")
    edit_after_check(monkeypatch, lambda p: write("longer-ids-"))
    store = EdgeStore(tmp_path / "s")
    with pytest.raises(CorpusError, match=r"c\.parquet changed after it was checked"):
        ingest(store, corpus, quiet=True)
    store.close()
    assert not (tmp_path / "s").exists()
