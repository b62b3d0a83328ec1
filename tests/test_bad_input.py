"""Bad input gets a clear, typed Python error that names the offending item; odd input works."""

from __future__ import annotations

import numpy as np
import pytest

from bm25x import Bm25, OptionError


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


@pytest.mark.parametrize(
    ("options", "exc", "needle"),
    [
        ({"k": -1}, OptionError, "'k'|\"k\""),
        ({"k": float("nan")}, OptionError, '"k"'),
        ({"b": 2}, OptionError, '"b"'),
        ({"avg_len": 0}, OptionError, '"avg_len"'),
        ({"avg_len": float("inf")}, OptionError, '"avg_len"'),
        ({"k": "1.2"}, TypeError, '"k" must be a number'),
        ({"lowercase": "yes"}, TypeError, '"lowercase" must be a boolean'),
        ({"tokenizer": "sentencepiece"}, OptionError, "accepted: word, whitespace"),
        ({"language": "klingon"}, OptionError, "unsupported language"),
        ({"language": "English"}, OptionError, "case-sensitive"),
        ({"stopwords": {"languages": ["xx"]}}, OptionError, "stopwords.languages"),
        ({"stopwords": {"words": ["a"]}}, OptionError, "stopwords.words"),
        ({"stopwords": 3}, TypeError, '"stopwords"'),
        ({"stemmer": {"type": "porter"}}, OptionError, "stemmer.type"),
        ({"stemmer": {"type": "snowball", "language": "chinese"}}, OptionError, "snowball"),
        ({"min_token_len": -1}, OptionError, "min_token_len"),
        ({"max_token_len": 2.5}, TypeError, "max_token_len"),
        ({"avglen": 100}, OptionError, 'unknown option "avglen"'),
        ({"token_max_length": 10}, OptionError, 'flavor="fastembed"|flavor=\\"fastembed\\"'),
        ({"flavor": "bm42"}, OptionError, "unknown flavor"),
        ({"flavor": "fastembed", "tokenizer": "word"}, OptionError, "qdrant"),
        ({"flavor": "fastembed", "language": "en"}, OptionError, "fastembed flavour"),
        ({"min_token_len": 10**40}, TypeError, "min_token_len"),
        ({"k": object()}, TypeError, "JSON value"),
    ],
)
def test_bad_options(options: dict[str, object], exc: type[Exception], needle: str) -> None:
    with pytest.raises(exc, match=needle):
        Bm25(**options)


def test_option_error_is_a_value_error() -> None:
    assert issubclass(OptionError, ValueError)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_threads(threads: object) -> None:
    with pytest.raises(ValueError, match="threads"):
        Bm25(threads=threads)  # type: ignore[arg-type]
