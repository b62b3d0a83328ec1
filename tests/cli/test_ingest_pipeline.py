"""Where ingest encodes: for a store that writes on threads of its own, the next batches on
bm25x's worker thread while the current one is written; for an Edge shard (whose writes run
on the calling thread), on the calling thread between the writes. Either way nothing is
lost, duplicated, reordered or changed: the points are those of writing vectors, payloads
and point ids made beforehand."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bm25x
import bm25x.app.ingest as ingest_module
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.corpus import read_docs
from bm25x.app.ingest import ingest
from bm25x.app.store import FINGERPRINT, EdgeStore, fingerprint
from bm25x.internals import Later


def _record_encodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], Later[Any]]]:
    """Every batch ingest gives the worker to encode, with what it got back, in order."""
    started: list[tuple[list[str], Later[Any]]] = []
    real = ingest_module.encode_later

    def encode_later(worker: Any, encoder: Any, texts: list[str]) -> Later[Any]:
        later = real(worker, encoder, texts)
        started.append((list(texts), later))
        return later

    monkeypatch.setattr(ingest_module, "encode_later", encode_later)
    return started


def _writes_in_background(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the Edge store say it writes in the background, as the REST writer does, so that
    ingest takes the worker's path with a real store."""
    monkeypatch.setattr(EdgeStore, "writes_in_background", property(lambda self: True))


def test_an_edge_shard_ingest_encodes_on_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _record_encodes(monkeypatch)
    real_encode = bm25x.Bm25.encode
    threads: set[int] = set()

    def encode(self: bm25x.Bm25, texts: Any, **kw: Any) -> Any:
        threads.add(threading.get_ident())
        return real_encode(self, texts, **kw)

    monkeypatch.setattr(bm25x.Bm25, "encode", encode)
    store = EdgeStore(tmp_path / "shard")
    assert not store.writes_in_background
    report = ingest(store, sample_corpus(), batch_size=64, quiet=True)
    store.close()
    assert threads == {threading.get_ident()} and not started
    assert report.written == len(list(read_docs(sample_corpus())))


def test_next_batch_is_encoded_while_this_one_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _writes_in_background(monkeypatch)
    started = _record_encodes(monkeypatch)
    real_upsert = EdgeStore.upsert
    overlapped: list[bool] = []

    def upsert(self: EdgeStore, ids: Any, *args: Any, **kw: Any) -> None:
        if not overlapped:  # the first write waits (bounded) for the second batch's vectors,
            # which nobody has asked for yet: the worker makes them on its own
            second: Any = started[1][1]
            limit = time.monotonic() + 10
            while not second.done and time.monotonic() < limit:
                time.sleep(0.001)
            overlapped.append(second.done)
        real_upsert(self, ids, *args, **kw)

    monkeypatch.setattr(EdgeStore, "upsert", upsert)
    store = EdgeStore(tmp_path / "shard")
    report = ingest(store, sample_corpus(), batch_size=64, quiet=True)
    assert overlapped == [True]
    docs = list(read_docs(sample_corpus()))
    assert [t for texts, _ in started for t in texts] == [d.text for d in docs]
    assert (report.written, store.count()) == (len(docs), len(docs))
    store.close()


def test_a_failing_write_stops_the_ingest_and_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_upsert = EdgeStore.upsert
    calls: list[int] = []

    def upsert(self: EdgeStore, ids: Any, *args: Any, **kw: Any) -> None:
        calls.append(len(ids))
        if len(calls) == 2:
            raise OSError("disk full")
        real_upsert(self, ids, *args, **kw)

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
    """While batch 1 is written, batches 2 and 3 are already given to the worker: a batch
    must not wait for a write to be started."""
    _writes_in_background(monkeypatch)
    started = _record_encodes(monkeypatch)
    real_upsert = EdgeStore.upsert
    ahead: list[int] = []

    def upsert(self: EdgeStore, ids: Any, *args: Any, **kw: Any) -> None:
        ahead.append(len(started))
        real_upsert(self, ids, *args, **kw)

    monkeypatch.setattr(EdgeStore, "upsert", upsert)
    store = EdgeStore(tmp_path / "shard")
    report = ingest(store, sample_corpus(), batch_size=16, quiet=True)
    store.close()
    assert ahead[0] == 3
    assert report.written == sum(len(texts) for texts, _ in started)


def _points(path: Path) -> dict[str, Any]:
    """Every point of a store: its payload, and its sparse vector's indices and values as
    stored (float32 bits)."""
    import qdrant_edge as qe

    shard = qe.EdgeShard.load(str(path / "shard"))
    try:
        points, _ = shard.scroll(
            qe.ScrollRequest(limit=100_000, with_payload=True, with_vector=True)
        )
    finally:
        shard.close()
    out = {}
    for p in points:
        vector = p.vector["bm25"]
        values = np.asarray(vector.values, dtype=np.float32).view(np.uint32).tolist()
        out[str(p.id)] = (json.dumps(p.payload, sort_keys=True), list(vector.indices), values)
    return out


@pytest.mark.parametrize("store_text", [False, True])
@pytest.mark.parametrize("on_the_worker", [False, True])
def test_the_points_are_those_of_a_write_of_precomputed_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_text: bool, on_the_worker: bool
) -> None:
    """Point ids, vectors and payloads made by ingest (on the calling thread or on the
    worker's) are those the store makes from the documents alone (no point ids given), bit
    for bit."""
    if on_the_worker:
        _writes_in_background(monkeypatch)
    docs = list(read_docs(sample_corpus()))
    store = EdgeStore(tmp_path / "ingested")
    ingest(store, sample_corpus(), batch_size=7, quiet=True, store_text=store_text)
    store.close()

    written = EdgeStore(tmp_path / "written")
    written.create({"bench": True}, None)
    encoder = bm25x.Bm25()
    for s in range(0, len(docs), 5):
        part = docs[s : s + 5]
        payloads = [
            {FINGERPRINT: fingerprint(d.text), **({"text": d.text} if store_text else {})}
            for d in part
        ]
        written.upsert([d.id for d in part], payloads, encoder.encode([d.text for d in part]), None)
    written.close()

    ingested = _points(tmp_path / "ingested")
    assert len(ingested) == len(docs)
    assert ingested == _points(tmp_path / "written")
