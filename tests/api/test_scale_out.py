"""Encoders travel to worker processes (pickle) and give exactly the local vectors there."""

from __future__ import annotations

import multiprocessing as mp
import pickle

from support import require

from bm25x import Bm25, SparseBatch

TEXTS = [f"Worker text {i}: cookies, dogs and {'chocolate ' * (i % 3)}chips" for i in range(400)]


def _encode(enc: Bm25, texts: list[str]) -> SparseBatch:
    return enc.encode(texts)


def test_multiprocessing_fork_after_use_does_not_deadlock() -> None:
    enc = Bm25(threads=2, language="en")
    local = enc.encode(TEXTS)  # the parent has built its thread pool before forking
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        parts = pool.starmap(_encode, [(enc, TEXTS[:200]), (enc, TEXTS[200:])])
    assert SparseBatch.concat(parts) == local


def test_spawned_workers() -> None:
    enc = Bm25(flavor="fastembed", k=1.1)
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        parts = pool.starmap(_encode, [(enc, TEXTS[:200]), (enc, TEXTS[200:])])
    assert SparseBatch.concat(parts) == enc.encode(TEXTS)
    assert pickle.loads(pickle.dumps(enc)).encode(TEXTS) == enc.encode(TEXTS)


def test_dask_local_cluster_with_worker_processes() -> None:
    distributed = require("distributed")
    enc = Bm25(language="de", stopwords={"languages": ["de", "en"]})
    chunks = [TEXTS[i : i + 100] for i in range(0, len(TEXTS), 100)]
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        futures = client.map(_encode, [enc] * len(chunks), chunks)
        parts = client.gather(futures)
    assert SparseBatch.concat(parts) == enc.encode(TEXTS)
