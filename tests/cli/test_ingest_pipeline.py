"""Ingest encodes the next batch while the current one is written, and the pipelining loses,
duplicates and reorders nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import bm25x
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.corpus import read_docs
from bm25x.app.ingest import ingest
from bm25x.app.store import EdgeStore


def test_next_batch_is_encoded_while_this_one_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_encode = bm25x.Bm25.encode
    real_upsert = EdgeStore.upsert
    encoded: list[list[str]] = []
    second_encode_started = threading.Event()
    overlapped: list[bool] = []

    def encode(self: bm25x.Bm25, texts: Any, **kw: Any) -> Any:
        encoded.append(list(texts))
        if len(encoded) == 2:
            second_encode_started.set()
        return real_encode(self, texts, **kw)

    def upsert(self: EdgeStore, ids: Any, *args: Any) -> None:
        if not overlapped:  # the first write waits (bounded) for the second batch's encode
            overlapped.append(second_encode_started.wait(timeout=10))
        real_upsert(self, ids, *args)

    monkeypatch.setattr(bm25x.Bm25, "encode", encode)
    monkeypatch.setattr(EdgeStore, "upsert", upsert)
    store = EdgeStore(tmp_path / "shard")
    report = ingest(store, sample_corpus(), batch_size=64, quiet=True)
    assert overlapped == [True]
    docs = list(read_docs(sample_corpus()))
    assert [t for batch in encoded for t in batch] == [d.text for d in docs]
    assert (report.written, store.count()) == (len(docs), len(docs))
    store.close()


def test_a_failing_write_stops_the_ingest_and_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_upsert = EdgeStore.upsert
    calls: list[int] = []

    def upsert(self: EdgeStore, ids: Any, *args: Any) -> None:
        calls.append(len(ids))
        if len(calls) == 2:
            raise OSError("disk full")
        real_upsert(self, ids, *args)

    monkeypatch.setattr(EdgeStore, "upsert", upsert)
    store = EdgeStore(tmp_path / "shard")
    with pytest.raises(OSError, match="disk full"):
        ingest(store, sample_corpus(), batch_size=30, quiet=True)
    assert calls == [30, 30]
    assert store.count() == 30
    store.close()


def test_two_batches_are_encoded_ahead_of_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While batch 1 is written, batches 2 and 3 are already being encoded: a batch submitted
    just before a write must not have to wait for that write to start encoding."""
    real_encode = bm25x.Bm25.encode
    started: list[int] = []
    third_started = threading.Event()
    ahead: list[bool] = []

    def encode(self: bm25x.Bm25, texts: Any, **kw: Any) -> Any:
        started.append(len(texts))
        if len(started) == 3:
            third_started.set()
        return real_encode(self, texts, **kw)

    real_upsert = EdgeStore.upsert

    def upsert(self: EdgeStore, ids: Any, *args: Any) -> None:
        if not ahead:  # the first write waits (bounded) for the third batch's encode
            ahead.append(third_started.wait(timeout=10))
        real_upsert(self, ids, *args)

    monkeypatch.setattr(bm25x.Bm25, "encode", encode)
    monkeypatch.setattr(EdgeStore, "upsert", upsert)
    store = EdgeStore(tmp_path / "shard")
    report = ingest(store, sample_corpus(), batch_size=16, quiet=True)
    store.close()
    assert ahead == [True]
    assert report.written == sum(started)
