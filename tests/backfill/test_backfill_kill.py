"""`bm25x backfill` killed with SIGKILL at random moments, then run again until it finishes:
every point ends with the right vector, and every other vector and every payload is
byte-identical to before, on an Edge shard and on the REST stand-in of a Qdrant server."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support import require
from support.backfill import Where, docs, points_of, sparse_bytes, where

import bm25x

require("qdrant_client")
require("qdrant_edge")

from support.local_qdrant import LocalQdrant

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

N_POINTS = {"edge": 30_000, "server": 5_000}
"""About two seconds of backfilling each (the stand-in server is the slower)."""
KILLS = 4


def _corpus(n: int) -> list[Any]:
    base = docs()
    return [
        base[i % len(base)]._replace(
            id=f"{base[i % len(base)].id}-{i}", text=f"{base[i % len(base)].text} {i}"
        )
        for i in range(n)
    ]


def _command(coll: Where, every: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bm25x",
        "backfill",
        *coll.argv,
        "--vector",
        "bm25",
        "--from-field",
        "text",
        "--page-size",
        "100",
        "--workers",
        "3",
        "--checkpoint-every",
        str(every),
        "--json",
        "-q",
    ]


def _read(coll: Where) -> int:
    """Points read as the saved checkpoint counts them."""
    for key, value in coll.metadata().items():
        if key.startswith("bm25x_backfill:"):
            return int(value["counts"]["read"])
    return 0


def _progress(coll: Where, proc: subprocess.Popen[bytes], done: int) -> bool:
    """Wait until the checkpoint counts more than ``done`` points (True) or the run ends."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if _read(coll) > done:
                return True
        except (OSError, ValueError):
            pass  # a metadata file being replaced, or the server busy: look again
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_sigkill_at_random_moments_then_resume(kind: str, tmp_path: Path) -> None:
    server = LocalQdrant() if kind == "server" else None
    try:
        coll = where(kind, tmp_path, server)
        corpus = _corpus(N_POINTS[kind])
        coll.create(points_of(corpus))
        before = coll.snapshot()
        rng = random.Random(23)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        killed = done = 0
        finished: dict[str, Any] | None = None
        for _ in range(KILLS + 3):
            # A checkpoint every page or every few pages: kills land between them too.
            every = rng.choice([0.0, 0.1] if kind == "server" else [0.05, 0.2])
            proc = subprocess.Popen(
                _command(coll, every), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
            )
            if killed < KILLS:
                # Once this run has saved progress of its own, kill it at a random moment.
                if _progress(coll, proc, done):
                    time.sleep(rng.uniform(0.0, 0.3))
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGKILL)
                        killed += 1
            out, err = proc.communicate(timeout=120)
            if proc.returncode == 0:
                finished = json.loads(out)
                break
            assert proc.returncode == -signal.SIGKILL, err.decode()
            done = _read(coll)
        assert finished is not None and finished["complete"]
        assert killed >= 2, "the runs ended before they could be killed"
        assert finished["totals"]["read"] == N_POINTS[kind]  # counted once, as the offset moves
        assert finished["totals"]["written"] == finished["totals"]["read"]

        after = coll.snapshot()
        assert {pid: {**p, "vectors": {k: v for k, v in p["vectors"].items() if k != "bm25"}}
                for pid, p in after.items()} == before  # fmt: skip
        enc = bm25x.Bm25()
        texts = [json.loads(p["payload"])["text"] for p in after.values()]
        expected = enc.encode(texts)
        assert [p["vectors"]["bm25"] for p in after.values()] == [sparse_bytes(v) for v in expected]
    finally:
        if server is not None:
            server.close()
