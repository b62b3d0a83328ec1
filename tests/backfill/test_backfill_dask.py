"""A backfill split by id ranges over a Dask LocalCluster, against the REST stand-in of a
Qdrant server: the parts run at once, each with its own checkpoint; an interrupted part
resumes on its own; together they fill every point once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import require
from support.backfill import docs, points_of, sparse_bytes, where

import bm25x

require("qdrant_client")
require("dask")
require("distributed")

from support.local_qdrant import LocalQdrant

from bm25x.app.backfill import backfill, split_ids
from bm25x.app.backfill.server import ServerTarget
from bm25x.app.backfill.state import is_part_of

N = 1200
PARTS = 4
TIMEOUT = 120  # seconds for the whole cluster run (it takes a few)


@pytest.fixture
def server() -> Iterator[LocalQdrant]:
    stand_in = LocalQdrant()
    yield stand_in
    stand_in.close()


def part(url: str, id_range: Any) -> dict[str, Any]:
    """One part, as a Dask task runs it: resumable on its own, its report as plain data."""
    report = backfill(
        url=url,
        collection="docs",
        vector="bm25",
        from_field="text",
        id_range=id_range,
        page_size=50,
        checkpoint_seconds=0,
        quiet=True,
    )
    return report.as_dict()


def test_a_backfill_split_over_a_dask_local_cluster(
    tmp_path: Path, server: LocalQdrant, monkeypatch: Any
) -> None:
    from dask.distributed import Client, LocalCluster

    base = docs()
    corpus = [
        base[i % len(base)]._replace(id=f"d{i}", text=f"{base[i % len(base)].text} {i}")
        for i in range(N)
    ]
    coll = where("server", tmp_path, server)
    coll.create(points_of(corpus))  # every fifth id an integer (all in the first part)
    ranges = split_ids(PARTS)

    # The second part is interrupted on its third page, before the cluster runs them all.
    real, calls = ServerTarget.write, []

    def failing(self: Any, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise ConnectionError("connection reset")
        real(self, *args)

    monkeypatch.setattr(ServerTarget, "write", failing)
    with pytest.raises(ConnectionError):
        part(server.url, ranges[1])
    monkeypatch.setattr(ServerTarget, "write", real)

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        futures = client.map(part, [server.url] * PARTS, ranges, pure=False)
        reports = [f.result(timeout=TIMEOUT) for f in futures]

    assert [r["resumed"] for r in reports] == [False, True, False, False]
    assert all(r["complete"] for r in reports)
    assert sum(r["totals"]["read"] for r in reports) == N  # each point in exactly one part
    assert sum(r["totals"]["written"] for r in reports) == N
    checkpoints = [v for k, v in coll.metadata().items() if is_part_of(k, "bm25")]
    assert len(checkpoints) == PARTS and all(c["complete"] for c in checkpoints)
    enc = bm25x.Bm25()
    snap = coll.snapshot()
    texts = [json.loads(p["payload"])["text"] for p in snap.values()]
    assert [p["vectors"]["bm25"] for p in snap.values()] == [
        sparse_bytes(v) for v in enc.encode(texts)
    ]
