"""A smoke run of each benchmark in ``benches/`` (tiny inputs, one process, seconds): a
benchmark that no longer runs fails here, not on the day someone needs its figures. The figures
themselves are not checked (speed belongs in the benchmarks, not in timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHES = ROOT / "benches"

# Each script with the arguments of its smoke run, and a line its output must hold.
SMOKE_RUNS = {
    "bench_encode.py": (
        ["--limit", "200", "--processes", "1", "--repeat", "1", "--skip", "fastembed,baseline"],
        "vs qdrant-edge",
    ),
    "bench_backfill.py": (["--smoke"], "backfill rate / ingest rate"),
    # The performance page's tables, made from the committed report of a full run.
    "perf_table.py": ([str(BENCHES / "results.json")], "Measured"),
    # The driver of profile.sh (which needs valgrind): one warm-up pass, no profiled pass.
    "profile_encode.py": (["short", "1", "0"], ""),
}


def _run(script: str, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # The same bm25x the tests import (the installed wheel, or a tree on PYTHONPATH).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, str(BENCHES / script), *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_benchmark_has_a_smoke_run() -> None:
    scripts = {p.name for p in BENCHES.glob("*.py")}
    assert scripts <= set(SMOKE_RUNS) | {"bench_serve.py"}, scripts - set(SMOKE_RUNS)


@pytest.mark.parametrize("script", sorted(SMOKE_RUNS))
def test_benchmark_smoke_run(script: str, tmp_path: Path) -> None:
    argv, expected = SMOKE_RUNS[script]
    done = _run(script, argv, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout, done.stdout[-3000:]
