"""The pure-Python baseline agrees with the Rust encoder on ordinary text."""

from __future__ import annotations

import numpy as np
import pytest

import bm25x
from bm25x import baseline

TEXTS = [
    "Recipe for baking chocolate chip cookies",
    "The quick brown fox jumps over the lazy dog, again and again.",
    "Return a new array of given shape and type, filled with zeros.",
    "",
    "HTTPX is a fully featured HTTP client for Python 3.",
]


@pytest.mark.parametrize("options", [{}, {"k": 0.9, "b": 0.4, "avg_len": 30}, {"language": "de"}])
def test_matches_rust_on_ordinary_text(options: dict[str, object]) -> None:
    fast, slow = bm25x.Bm25(**options), baseline.Bm25(**options)  # type: ignore[arg-type]
    assert slow.encode(TEXTS) == fast.encode(TEXTS)
    assert slow.encode_query(TEXTS) == fast.encode_query(TEXTS)
    for text in TEXTS:
        assert slow.encode(text) == fast.encode(text)


def test_documented_difference_combining_marks() -> None:
    # Rust counts vowel signs as letters; Python's \w does not, so the baseline splits there.
    text = "नमस्ते दुनिया"
    assert baseline.Bm25().encode(text) != bm25x.Bm25().encode(text)


def test_output_types() -> None:
    v = baseline.Bm25().encode("cookies")
    assert v.indices.dtype == np.uint32 and v.values.dtype == np.float32
    assert len(baseline.Bm25().encode([])) == 0
