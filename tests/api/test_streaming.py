"""`encode_iter`: batches in order, bounded memory, any iterable or array as input."""

from __future__ import annotations

import numpy as np
import pytest
from support import require

from bm25x import Bm25, SparseBatch

TEXTS = [f"document {i} about {'cookies ' * (i % 4)}and dogs number {i % 17}" for i in range(1003)]


@pytest.fixture(scope="module")
def enc() -> Bm25:
    return Bm25()


def test_batches_concatenate_to_the_whole(enc: Bm25) -> None:
    batches = list(enc.encode_iter(iter(TEXTS), batch_size=100))
    assert [len(b) for b in batches] == [100] * 10 + [3]
    assert SparseBatch.concat(batches) == enc.encode(TEXTS)
    queries = list(enc.encode_query_iter(TEXTS, batch_size=500))
    assert SparseBatch.concat(queries) == enc.encode_query(TEXTS)


@pytest.mark.parametrize("kind", ["list", "tuple", "generator", "numpy", "pyarrow", "chunked"])
def test_inputs(enc: Bm25, kind: str) -> None:
    data: object
    if kind == "list":
        data = TEXTS
    elif kind == "tuple":
        data = tuple(TEXTS)
    elif kind == "generator":
        data = (t for t in TEXTS)
    elif kind == "numpy":
        data = np.array(TEXTS)
    else:
        pa = require("pyarrow")
        halves = [TEXTS[:500], TEXTS[500:]]
        data = pa.array(TEXTS) if kind == "pyarrow" else pa.chunked_array(halves)
    got = SparseBatch.concat(list(enc.encode_iter(data, batch_size=256)))  # type: ignore[arg-type]
    assert got == enc.encode(TEXTS)


def test_lazy_consumption(enc: Bm25) -> None:
    pulled = 0

    def source():  # type: ignore[no-untyped-def]
        nonlocal pulled
        for t in TEXTS:
            pulled += 1
            yield t

    it = enc.encode_iter(source(), batch_size=10)
    assert pulled == 0
    next(it)
    assert pulled == 10


def test_errors_name_the_global_position(enc: Bm25) -> None:
    bad = [*TEXTS[:25], 7]
    with pytest.raises(TypeError, match="item 25 must be str"):
        list(enc.encode_iter(bad, batch_size=10))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        enc.encode_iter(TEXTS, batch_size=0)
    with pytest.raises(TypeError, match="use encode"):
        enc.encode_iter("one text")


def test_memory_stays_bounded(enc: Bm25) -> None:
    """Streaming 200 MB of text keeps the process's resident memory far below the input size."""
    # A platform module (absent on Windows), not a package to install: a plain skip.
    resource = pytest.importorskip("resource")
    chunk = "the quick brown fox jumps over the lazy dog near the river bank " * 50  # 3.2 kB

    def source():  # type: ignore[no-untyped-def]
        for i in range(64_000):  # ~205 MB in total
            yield chunk + str(i)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    count = 0
    for batch in enc.encode_iter(source(), batch_size=2_000):
        count += len(batch)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert count == 64_000
    assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MB while streaming 205 MB"


def test_chunked_pyarrow_arrays_are_batches(enc: Bm25) -> None:
    pa = require("pyarrow")
    chunked = pa.chunked_array([TEXTS[:10], TEXTS[10:25]])
    assert enc.encode(chunked) == enc.encode(TEXTS[:25])
    assert SparseBatch.concat(list(enc.encode_iter(chunked, batch_size=7))) == enc.encode(
        TEXTS[:25]
    )
