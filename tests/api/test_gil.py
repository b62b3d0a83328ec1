"""Batch encoding releases the GIL: another Python thread runs while a large batch encodes,
even single-threaded (``threads=1``).

How it is measured without a clock: the switch interval is made so long that the main thread
never gives up the GIL involuntarily during the test. A counter thread then advances only
while the main thread has released the GIL of its own accord. The same measurement around a
C call that holds the GIL (``list.sort`` of ints) shows no progress at all, so the test fails
if encoding held the GIL.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bm25x import Bm25

TEXTS = [
    f"document {i} about baking chocolate chip cookies and bread number {i}" for i in range(60_000)
]


@contextmanager
def counter_thread() -> Iterator[list[int]]:
    """A thread counting as fast as it can; it yields the GIL after each step."""
    import time

    count = [0]
    stop = threading.Event()
    started = threading.Event()

    def run() -> None:
        started.set()
        while not stop.is_set():
            count[0] += 1
            time.sleep(0)  # releases the GIL, so the main thread gets it back at once

    worker = threading.Thread(target=run, daemon=True)
    old = sys.getswitchinterval()
    worker.start()
    started.wait()
    sys.setswitchinterval(1000.0)
    try:
        yield count
    finally:
        stop.set()
        sys.setswitchinterval(old)
        worker.join()


def progress(count: list[int], work: Callable[[], object]) -> int:
    """How far the counter advanced while ``work`` ran."""
    before = count[0]
    work()
    return count[0] - before


def test_a_large_batch_encodes_without_the_gil() -> None:
    enc = Bm25()
    numbers = list(range(3_000_000, 0, -1))
    with counter_thread() as count:
        held = progress(count, lambda: sorted(numbers))
        released = progress(count, lambda: enc.encode(TEXTS, threads=1))
        released_query = progress(count, lambda: enc.encode_query(TEXTS, threads=1))
    assert held == 0  # the measurement sees a held GIL as no progress
    assert released > 0 and released_query > 0
