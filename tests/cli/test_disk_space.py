"""A full disk never kills an ingest: qdrant-edge writes through memory-mapped files, where a
full disk is SIGBUS (exit 135, no message), so ingest checks the free space before writing and
before each batch, and says how much is needed and free; a write the disk refuses is a
one-line error; and the advice is always to free space and run the same command again, which
resumes, never to rebuild."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest
from support import IN_CI

import bm25x.app.space as space
from bm25x.app.cli import main
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.ingest import ingest
from bm25x.app.store import EdgeStore

Usage = namedtuple("Usage", "total used free")
MiB = 1 << 20
TIMEOUT = 120


def write_corpus(path: Path, n: int, words: int = 50, seed: int = 1) -> Path:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(20_000)]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            text = " ".join(rng.choices(vocabulary, k=words))
            f.write(json.dumps({"_id": f"d{i}", "text": text}) + "\n")
    return path


def free_disk(monkeypatch: pytest.MonkeyPatch, free: Any) -> None:
    """Make the store see ``free()`` bytes free (a number, or a function called each time)."""
    import bm25x.app.store.edge as store_module

    def disk_usage(path: Any) -> Usage:
        n = free() if callable(free) else free
        return Usage(1 << 40, (1 << 40) - n, n)

    monkeypatch.setattr(store_module.shutil, "disk_usage", disk_usage)


def test_an_ingest_that_cannot_fit_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 2000)
    free_disk(monkeypatch, 9 * MiB)
    store = tmp_path / "s"
    assert main(["ingest", str(corpus), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"bm25x ingest: error: not enough free disk space for Qdrant Edge shard in {store}: "
        "these 2,000 documents need about "
    )
    assert err.endswith(
        "or more (an estimate from the corpus, with 8.0 MiB kept free) and 9.0 MiB is free "
        "there; free some space or choose a --store on another disk, then run this again "
        "(nothing was written)\n"
    )
    assert not store.exists()
    free_disk(monkeypatch, 1 << 30)
    assert main(["ingest", str(corpus), "--store", str(store), "-q"]) == 0


def test_a_disk_filling_up_during_the_ingest_stops_it_and_a_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 2000)
    free = [1 << 30]
    free_disk(monkeypatch, lambda: free[0])
    real_upsert = EdgeStore.upsert
    fills = [9 * MiB]

    def upsert(self: EdgeStore, ids: Any, *args: Any, **kw: Any) -> None:
        real_upsert(self, ids, *args, **kw)
        if fills:  # another program fills the disk after the first batch
            free[0] = fills.pop()

    monkeypatch.setattr(EdgeStore, "upsert", upsert)
    store = tmp_path / "s"
    argv = ["ingest", str(corpus), "--store", str(store), "--batch-size", "500", "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"bm25x ingest: error: stopped before the disk holding Qdrant Edge shard in {store} "
        "filled up: 9.0 MiB is free and the next 500 documents need about "
    )
    assert err.endswith(
        "the 500 documents this ingest wrote are kept. Free some space and run the same "
        "command again: it resumes where it stopped\n"
    )
    assert main(["search", "--store", str(store), "w1"]) == 2
    assert "did not finish; run the same `bm25x ingest` command again" in capsys.readouterr().err
    free[0] = 1 << 30
    assert main(argv[:-1]) == 0
    assert "1,500 documents written, 500 already there" in capsys.readouterr().err


def test_a_resumed_ingest_needs_only_the_space_for_what_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 2000)
    store = EdgeStore(tmp_path / "s")
    ingest(store, corpus, quiet=True)
    store.close()
    used = EdgeStore(tmp_path / "s").disk_used()
    assert used > 0
    # far less is free than the whole corpus needs, but it is all there already
    free_disk(monkeypatch, space.RESERVE + 1)
    store = EdgeStore(tmp_path / "s")
    assert ingest(store, corpus, quiet=True).skipped == 2000
    store.close()


def test_a_full_disk_reported_by_the_store_is_one_line_advising_a_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bm25x.app.store.edge as store_module

    store = tmp_path / "s"
    real_write = store_module._write_json

    def full(file: Path, settings: dict[str, Any]) -> None:
        if file.parent == store:  # the settings an ingest records as it ends
            raise OSError(28, "No space left on device")
        real_write(file, settings)

    monkeypatch.setattr(store_module, "_write_json", full)
    assert main(["ingest", str(sample_corpus()), "--store", str(store), "-q"]) == 2
    assert capsys.readouterr().err == (
        f"bm25x ingest: error: the disk holding {store} is full ([Errno 28] No space left on "
        "device); free some space and run the same command again: an ingest resumes where it "
        "stopped, and what it wrote is kept\n"
    )
    monkeypatch.undo()

    def library_full() -> None:
        raise Exception("Service internal error: No space left on device (os error 28)")

    monkeypatch.setattr(
        EdgeStore, "upsert", lambda self, *a, **kw: self._guard("write to", library_full)
    )
    assert main(["ingest", str(sample_corpus()), "--store", str(store), "--recreate", "-q"]) == 2
    err = capsys.readouterr().err
    assert "the disk holding" in err and "is full (Service internal error" in err
    assert "--recreate" not in err


# -- a real full disk: a small tmpfs ----------------------------------------------------------

SCRIPT = """
import shutil, sys
from bm25x.app.cli import main
import bm25x.app.space as space
real = space.SpaceCheck.before_writing
def then_fill(self, *args):
    real(self, *args)
    if LEAVE:  # another program fills the disk but LEAVE bytes once the ingest checked it
        with open(sys.argv[1], "wb") as f:
            f.write(bytes(shutil.disk_usage(sys.argv[1]).free - LEAVE))
space.SpaceCheck.before_writing = then_fill
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A 24 MiB tmpfs (root only); skipped where it cannot be mounted, except in CI."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = hasattr(os, "geteuid") and os.geteuid() == 0
    if mounted:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        mounted = done.returncode == 0
    if not mounted:
        message = "a small tmpfs to fill needs root (mount -t tmpfs)"
        if IN_CI:
            pytest.fail(f"CI must be able to mount one: {message}", pytrace=False)
        pytest.skip(message)
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True, timeout=TIMEOUT)


def run_ingest(disk: Path, corpus: Path, leave: int) -> subprocess.CompletedProcess[str]:
    argv = ["ingest", str(corpus), "--store", str(disk / "s"), "-q"]
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("LEAVE", str(leave)), str(disk / "other"), *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_a_real_full_disk_is_a_message_not_a_crash(tmp_path: Path, small_disk: Path) -> None:
    big = write_corpus(tmp_path / "big.jsonl", 60_000)  # about 75 MiB as a store
    refused = run_ingest(small_disk, big, 0)
    assert refused.returncode == 2, refused.stderr
    assert "not enough free disk space" in refused.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == [".s.lock"]

    corpus = write_corpus(tmp_path / "c.jsonl", 5_000)  # about 6.3 MiB as a store
    stopped = run_ingest(small_disk, corpus, 12 * MiB)  # about 2 MiB to write before the guard
    assert stopped.returncode == 2, (-stopped.returncode, signal.SIGBUS, stopped.stderr)
    assert "stopped before the disk holding" in stopped.stderr
    assert "resumes where it stopped" in stopped.stderr
    (small_disk / "other").unlink()  # space freed
    done = run_ingest(small_disk, corpus, 0)
    assert done.returncode == 0, done.stderr
    settings = json.loads((small_disk / "s" / "bm25x.json").read_text())
    assert settings["complete"] and settings["documents"] == 5_000
    shutil.rmtree(small_disk / "s")


def test_the_texts_are_never_taken_for_more_than_the_file_holds(tmp_path: Path) -> None:
    from bm25x.app.corpus import check_docs
    from bm25x.app.corpus_file import CorpusFile
    from bm25x.app.ingest import _texts_size

    corpus = tmp_path / "c.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:  # long documents first, then many short
        for i in range(20_000):
            f.write(json.dumps({"_id": str(i), "text": "long " * 400 if i < 1000 else "s"}) + "\n")
    source = CorpusFile(corpus)
    n = check_docs(corpus, source=source)
    read = {"text_fields": ("title", "text"), "id_field": None}
    assert _texts_size(source, read, n) == corpus.stat().st_size  # not 20,000 x 2,000
