"""The bm25 provider's encoder cache: bounded in estimated bytes as well as in encoders (each
distinct stopword list builds an encoder 15 to 30 times its size), keyed by a digest rather
than the options' text, least recently used out first; options over ``MAX_OPTIONS_BYTES`` are
refused with an ``OptionError`` naming the option."""

from __future__ import annotations

import gc
import tracemalloc
from collections import OrderedDict
from collections.abc import Iterator

import pytest

import bm25x
from bm25x.providers import bm25


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[OrderedDict[bytes, tuple[bm25x.Bm25, int]]]:
    """An empty cache for the test (the process's is put back)."""
    fresh: OrderedDict[bytes, tuple[bm25x.Bm25, int]] = OrderedDict()
    monkeypatch.setattr(bm25, "_cache", fresh)
    monkeypatch.setattr(bm25, "_cache_bytes", 0)
    yield fresh


def stopwords(tag: int, n: int) -> dict[str, object]:
    return {"stopwords": {"languages": [], "custom": [f"w{tag:03d}x{i:06d}" for i in range(n)]}}


def test_cache_is_bounded_in_bytes(
    cache: OrderedDict[bytes, tuple[bm25x.Bm25, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bm25, "CACHE_BYTES", 8 * 1024 * 1024)
    words = 10_000
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for tag in range(12):
            enc = bm25.shared_encoder("qdrant", stopwords(tag, words))
            assert enc.config["custom_stopwords"][0] == f"w{tag:03d}x000000"
        del enc
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 1 <= len(cache) < 12 and bm25._cache_bytes <= bm25.CACHE_BYTES
    assert bm25._cache_bytes == sum(cost for _, cost in cache.values())
    assert all(len(key) == 32 for key in cache)  # digests, not the 150 KB option texts
    # What the kept encoders hold on the Python side (their options' word lists) stays under
    # the budget; the twelve lists together are about 7.5 MB.
    assert kept < bm25.CACHE_BYTES, kept
    # the most recently used are the ones kept
    newest = bm25.shared_encoder("qdrant", stopwords(11, words))
    assert next(reversed(cache.values()))[0] is newest


def test_cost_estimate_counts_words_and_languages() -> None:
    plain = bm25.encoder_bytes(bm25x.Bm25())
    words = bm25.encoder_bytes(bm25x.Bm25(**stopwords(0, 1000)))  # type: ignore[arg-type]
    languages = bm25x.Bm25(stopwords={"languages": ["english", "french", "german"]})
    assert words - bm25.encoder_bytes(bm25x.Bm25(stopwords={"languages": []})) >= 1000 * 200
    assert bm25.encoder_bytes(languages) > plain
    assert bm25.encoder_bytes(bm25x.Bm25(stopwords={"languages": []})) < plain


def test_too_costly_an_encoder_is_built_but_not_kept(
    cache: OrderedDict[bytes, tuple[bm25x.Bm25, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bm25, "CACHE_BYTES", 100 * 1024)
    enc = bm25.shared_encoder("qdrant", stopwords(1, 2000))
    assert enc.encode("w001x000001 and more").indices.size == 2 and not cache


def test_options_over_the_bound_are_refused_naming_the_option(
    cache: OrderedDict[bytes, tuple[bm25x.Bm25, int]],
) -> None:
    big = stopwords(2, bm25.MAX_OPTIONS_BYTES // 10)
    with pytest.raises(bm25x.OptionError, match=r'option "stopwords": [\d,]+ bytes as JSON'):
        bm25.shared_encoder("qdrant", {"k": 1.0, **big})
    with pytest.raises(bm25x.BadInputError, match='option "stopwords"') as info:
        bm25x.embed("a", model="bm25", options=big)
    assert isinstance(info.value.__cause__, bm25x.OptionError) and not cache
    # bm25x.Bm25 itself takes them (the bound is the shared, cached path's)
    assert bm25x.Bm25(**big).config["custom_stopwords"][0] == "w002x000000"  # type: ignore[arg-type]
