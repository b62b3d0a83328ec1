"""Batches encoded on bm25x's worker thread (``bm25x._later``): the same vectors and errors as
``Bm25.encode``, made while the caller holds the GIL, in a forked child too."""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from bm25x import Bm25, SparseBatch
from bm25x.internals import Worker, encode_later

TEXTS = [f"Worker text {i}: cookies, dogs and {'chocolate ' * (i % 3)}chips" for i in range(400)]


@pytest.mark.parametrize("threads", [None, 1, 2])
def test_the_vectors_are_encodes(threads: int | None) -> None:
    enc = Bm25(language="de", k=1.1)
    worker = Worker()
    batches = [TEXTS[:150], [], ["", "the"], TEXTS[150:], tuple(TEXTS[:3])]
    later = [encode_later(worker, enc, list(b), threads) for b in batches]
    for texts, pending in zip(batches, later):
        got = pending.result()
        assert isinstance(got, SparseBatch)
        assert got == enc.encode(list(texts))
        assert pending.result() == got  # asked again: the same value


def test_what_encode_refuses_is_raised_by_the_result() -> None:
    enc = Bm25()
    worker = Worker()
    surrogate = encode_later(worker, enc, ["fine", "lone \ud800"])
    not_text = encode_later(worker, enc, ["fine", 3])  # type: ignore[list-item]
    bad_threads = encode_later(worker, enc, ["fine"], threads=0)
    after = encode_later(worker, enc, ["still works"])
    with pytest.raises(ValueError, match="item 1 contains a lone surrogate"):
        surrogate.result()
    with pytest.raises(TypeError, match="item 1 must be str"):
        not_text.result()
    with pytest.raises(ValueError, match="threads"):
        bad_threads.result()
    assert after.result() == enc.encode(["still works"])


@contextmanager
def gil_kept() -> Iterator[None]:
    """The main thread keeps the GIL unless it releases it itself: with this switch interval,
    a thread waiting for the GIL never asks it to let go (the method of test_gil.py)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def finishes_with_the_gil_held(done: Callable[[], bool], seconds: float) -> bool:
    """Whether ``done()`` turns true within ``seconds`` while this thread holds the GIL
    (``done`` and the clock never release it)."""
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        if done():
            return True
    return False


def test_a_job_runs_while_the_caller_holds_the_gil() -> None:
    enc = Bm25()
    worker = Worker()
    encode_later(worker, enc, ["warm"]).result()  # the thread is started
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(int).result()  # the control's thread is started too
        with gil_kept():
            job = enc._native.encode_many_later(worker, TEXTS, False, 1)
            ran = finishes_with_the_gil_held(lambda: job.done, 30)
            control = pool.submit(enc.encode, TEXTS[:1], threads=1)
            python_ran = finishes_with_the_gil_held(control.done, 0.3)
        control.result()
    assert not python_ran  # the measurement: a Python thread cannot run meanwhile
    assert ran
    indptr, indices, values = job.result()
    expected = enc.encode(TEXTS)
    assert (indptr.tolist(), indices.tolist()) == (
        expected.indptr.tolist(),
        expected.indices.tolist(),
    )
    assert values.tolist() == expected.values.tolist()


WORKER = Worker()


def _encode_in_child(texts: list[str]) -> SparseBatch:
    return encode_later(WORKER, Bm25(), texts).result()


def test_a_worker_used_before_a_fork_works_in_the_child() -> None:
    local = encode_later(WORKER, Bm25(), TEXTS).result()  # its thread runs in the parent
    with mp.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_encode_in_child, (TEXTS,)).get(timeout=60)
    assert got == local
