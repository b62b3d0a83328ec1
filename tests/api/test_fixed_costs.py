"""The per-call fixed costs that dominate short texts: no copy of a text's UTF-8 under the GIL
and no Python-level work to build the result of one text. (Speed itself is measured in
benches/; these tests check the structure that makes it fast.)"""

from __future__ import annotations

import sys
import tracemalloc
from types import FrameType
from typing import Any

import numpy as np

import bm25x
from bm25x import SparseVector


def test_batch_encoding_takes_each_text_without_a_copy() -> None:
    text = "word " * 2_000_000  # 10 MB of ASCII
    enc = bm25x.Bm25(threads=1)
    enc.encode([text[:100]])  # warm-up: imports, memos
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        enc.encode([text])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A bytes copy of the text would show as 10 MB of Python allocations.
    assert peak - before < 1_000_000


def test_non_ascii_text_is_encoded_from_its_cached_utf8() -> None:
    text = "Ünïcödé wörds " * 10_000
    enc = bm25x.Bm25(threads=1)
    assert enc.encode([text])[0] == enc.encode(text)
    assert enc.encode([text, text], threads=2)[1] == enc.encode(text)


def test_one_text_is_one_python_call() -> None:
    enc = bm25x.Bm25()
    enc.encode_query("warm up")
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    for method in (enc.encode_query, enc.encode):
        calls.clear()
        sys.setprofile(profile)
        try:
            v = method("How to bake cookies?")
        finally:
            sys.setprofile(None)
        assert calls == [method.__name__]
        assert type(v) is SparseVector
        assert v.indices.dtype == np.uint32 and v.values.dtype == np.float32
    assert enc.encode_query("How to bake cookies?").to_dict() == {112174620: 1.0, 662344706: 1.0}
    assert (
        enc.encode("Recipe for baking chocolate chip cookies")
        == enc.encode(["Recipe for baking chocolate chip cookies"])[0]
    )
