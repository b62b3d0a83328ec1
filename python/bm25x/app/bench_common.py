"""What the benchmarks (:mod:`bm25x.app.bench`, :mod:`bm25x.app.bench_ingest`) share: one
measurement in a fresh process, and the summary of repeated measurements."""

from __future__ import annotations

import multiprocessing as mp
import queue
import statistics
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["in_process", "summarize"]


def in_process(label: str, target: Callable[..., None], *args: Any) -> Any:
    """Run ``target(*args, queue)`` in a fresh spawned process and return what it put on the
    queue; a ``ChildProcessError`` (not a hang) when the process dies without an answer."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    try:
        while True:
            try:
                return q.get(timeout=0.5)
            except queue.Empty:
                if not p.is_alive() and q.empty():
                    raise ChildProcessError(
                        f"the benchmark process for {label} exited with code "
                        f"{p.exitcode} without a result (see its error above; leave a "
                        "contender out with --skip)"
                    ) from None
    finally:
        p.join()


def summarize(values: Sequence[float]) -> tuple[float, float, float, float]:
    """``(median, min, max, spread)``; spread is half the min-max range over the median."""
    med = statistics.median(values)
    lo, hi = min(values), max(values)
    return med, lo, hi, (hi - lo) / 2 / med if med else 0.0
