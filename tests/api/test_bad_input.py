"""Bad input gets a clear, typed Python error that names the offending item; odd input works."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

from bm25x import Bm25, InternalError, OptionError
from bm25x._native import MAX_THREADS, _panic_for_tests


@pytest.fixture(scope="module")
def enc() -> Bm25:
    return Bm25()


def test_non_str_item_names_its_position(enc: Bm25) -> None:
    with pytest.raises(TypeError, match=r"item 2 must be str, got int"):
        enc.encode(["a", "b", 3, "d"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"item 0 must be str, got NoneType"):
        enc.encode_query([None])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"item 1 must be str, got bytes"):
        enc.encode(("x", b"y"))  # type: ignore[arg-type]


def test_non_text_arguments(enc: Bm25) -> None:
    with pytest.raises(TypeError, match="decode it first"):
        enc.encode(b"bytes text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="iterable of str, got int"):
        enc.encode(42)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="must be str"):
        enc.explain(42)  # type: ignore[arg-type]


def test_empty_and_blank_texts_give_empty_vectors(enc: Bm25) -> None:
    for text in ["", " ", "\n\t", "...", "the and of"]:
        v = enc.encode(text)
        assert len(v) == 0 and v.indices.dtype == np.uint32
        assert len(enc.encode_query(text)) == 0


@pytest.mark.parametrize("text", ["ab\ud800cd", "\udfff", "ok " * 5 + "\udc80"])
def test_lone_surrogates_raise_value_error_with_position(enc: Bm25, text: str) -> None:
    pos = next(i for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF)
    with pytest.raises(ValueError, match=rf"text contains a lone surrogate at index {pos}"):
        enc.encode(text)
    with pytest.raises(ValueError, match=rf"item 1 contains a lone surrogate at index {pos}"):
        enc.encode_query(["fine", text])


def test_paired_surrogates_as_astral_chars_are_fine(enc: Bm25) -> None:
    assert enc.terms("emoji 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢") == ["emoji", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]


def test_nul_and_control_characters(enc: Bm25) -> None:
    assert enc.encode("cookies\x00chip\x1f\x7fbake").to_dict().keys() == {
        112174620,
        771857363,
        662344706,
    }
    assert len(Bm25(tokenizer="whitespace").encode_query("\x00 \x00")) == 0


def test_a_100_mb_text(enc: Bm25) -> None:
    text = "chocolate chip cookies are baked " * (100 * 1024 * 1024 // 33)
    assert len(text) >= 100 * 1024 * 1024 - 64
    v = enc.encode(text)
    assert len(v) == 4  # chocol, chip, cooki, bake ("are" is a stopword)
    assert v.values.dtype == np.float32 and np.all(v.values > 0)


def test_one_huge_token(enc: Bm25) -> None:
    v = enc.encode("x" * 5_000_000)
    assert len(v) == 1


# Bad options: the one table is in test_options.py.


def test_option_error_is_a_value_error() -> None:
    assert issubclass(OptionError, ValueError)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_threads(threads: object) -> None:
    with pytest.raises(ValueError, match="threads"):
        Bm25(threads=threads)  # type: ignore[arg-type]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (a crash there fails the test instead of pytest)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_self_containing_or_deep_options_are_option_errors() -> None:
    done = run_python(
        """
        import bm25x
        loop = []
        loop.append(loop)
        deep = []
        for _ in range(20_000):
            deep = [deep]
        for value in (loop, deep, {"a": loop}):
            try:
                bm25x.Bm25(stopwords={"custom": value})
            except bm25x.OptionError as e:
                assert '"stopwords"' in str(e) and "levels deep" in str(e), e
            else:
                raise AssertionError("accepted")
        print("ok")
        """
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2", 2**62, MAX_THREADS + 1])
def test_bad_threads_per_call(enc: Bm25, threads: object) -> None:
    for call in (enc.encode, enc.encode_query, enc.encode_iter):
        with pytest.raises(ValueError, match="threads"):
            call(["a", "b"], threads=threads)  # type: ignore[operator]
    with pytest.raises(ValueError, match="threads"):
        Bm25(threads=threads)  # type: ignore[arg-type]


def test_numpy_integers_are_counts_numpy_bools_are_not(enc: Bm25) -> None:
    assert Bm25(threads=np.int64(2)).threads == 2
    assert len(enc.encode(["a b", "c"], threads=np.int32(2))) == 2
    assert [len(b) for b in enc.encode_iter(["a", "b", "c"], batch_size=np.int64(2))] == [2, 1]
    with pytest.raises(ValueError, match="batch_size"):
        enc.encode_iter(["a"], batch_size=np.bool_(True))
    with pytest.raises(ValueError, match="batch_size"):
        enc.encode_iter(["a"], batch_size=True)


def test_thread_start_failure_is_a_typed_error() -> None:
    # Cap the address space so that thread stacks cannot be mapped.
    done = run_python(
        """
        import resource
        import bm25x
        enc = bm25x.Bm25()
        enc.encode(["warm up"] * 4, threads=1)
        rss = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (rss + (256 << 20), resource.RLIM_INFINITY))
        try:
            enc.encode(["text"] * 20_000, threads=1000)  # enough text for the pool
        except bm25x.ThreadStartError as e:
            assert "1000" in str(e) and "threads=" in str(e), e
            print("typed")
        else:
            print("started")
        """
    )
    assert done.returncode == 0, done.stderr
    assert "PanicException" not in done.stderr
    assert done.stdout.strip() == "typed"


def test_a_rust_panic_is_an_internal_error_not_a_panic_exception() -> None:
    with pytest.raises(InternalError, match="bug"):
        _panic_for_tests()
    assert issubclass(InternalError, Exception)


def test_mappings_are_not_batches_and_iter_checks_at_the_call(enc: Bm25) -> None:
    with pytest.raises(TypeError, match="mapping"):
        enc.encode({"k": "v"})  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="mapping"):
        enc.encode_iter({"k": "v"})
    with pytest.raises(TypeError, match="encode_iter takes an iterable of str, got int"):
        enc.encode_iter(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"encode_query_iter .* got NoneType"):
        enc.encode_query_iter(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (
            {"min_token_len": 5, "max_token_len": 3},
            r"min_token_len \(5\) is greater than max_token_len \(3\)",
        ),
        ({"k": 1e308}, r"\[0, 1e38\].*float32"),
        ({"k": 1e39, "flavor": "fastembed"}, "float32"),
        ({"k": 0, "avg_len": 5e-324}, "avg_len"),
    ],
)
def test_options_that_empty_or_break_every_vector(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(OptionError, match=needle):
        Bm25(**options)


def test_largest_k_gives_finite_weights() -> None:
    v = Bm25(k=1e38, b=1, avg_len=1e300).encode("cookies " * 50 + "dough")
    assert np.isfinite(v.values).all() and len(v) == 2
