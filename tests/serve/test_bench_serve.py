"""``benches/bench_serve.py --smoke`` runs to the end with every answer right: the benchmark's
table is part of what ``make test`` checks, so that it cannot stop running unnoticed (it did
once, importing test helpers from paths that had moved). Its figures are not checked here:
speed is measured by the benchmark, never asserted by a test."""

from __future__ import annotations

import subprocess
import sys

from support import require
from support.serve import ROOT

require("uvicorn")
require("aiohttp")
require("psutil")
require("httptools")


def test_the_serve_benchmark_runs_and_every_answer_is_right() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benches" / "bench_serve.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    paths = [row.split(" | ")[0].removeprefix("| ") for row in rows[2:]]
    assert "bm25: through bm25x serve" in paths
    assert "remote stand-in: bm25x.aembed directly" in paths
    # every row counts 0 failures (its last column)
    assert all(row.rstrip(" |").endswith("| 0") for row in rows[2:]), rows
