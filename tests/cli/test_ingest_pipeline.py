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


def test_read_ahead_keeps_order_and_raises_where_the_producer_failed() -> None:
    from bm25x.app.ingest import _read_ahead

    def items() -> Any:
        yield from range(10)
        raise ValueError("line 11: bad")

    got: list[int] = []
    with pytest.raises(ValueError, match="line 11: bad"):
        for item in _read_ahead(items(), depth=2):
            got.append(item)
    assert got == list(range(10))


def test_read_ahead_runs_at_most_depth_ahead_and_stops_when_closed() -> None:
    from bm25x.app.ingest import _read_ahead

    produced: list[int] = []

    def items() -> Any:
        for i in range(1000):
            produced.append(i)
            yield i

    reading = _read_ahead(items(), depth=3)
    assert next(reading) == 0
    threading.Event().wait(0.3)  # time for the producer to run as far ahead as it may
    # one taken, three queued, one made and waiting for room
    assert len(produced) <= 5
    before = {t.name for t in threading.enumerate()}
    assert "bm25x-read" in before
    reading.close()
    assert "bm25x-read" not in {t.name for t in threading.enumerate()}
    assert len(produced) <= 6
