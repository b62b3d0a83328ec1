"""Option validation (server flavour): every bad option raises a typed error that names it, and
every `Bm25Config` value Qdrant accepts is accepted too, with the same result."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from support.qdrant_oracle import assert_same, oracle
from support.strategies import STEMMER_LANGUAGES, STOPWORD_LANGUAGES

import bm25x

TEXT = "The Running cookies, İstanbul straße Ⓐⓑⓒ and 42 ΟΔΟΣ"


class _NotJson:
    """A value no JSON can hold, with a repr that keeps the test id stable."""

    def __repr__(self) -> str:
        return "NotJson()"


# The one table of bad options (tests/api/test_bad_input.py has none of its own):
# (options, exception, the option name the message must contain, and what else it must say:
# a regex, "" for nothing more).
BAD: list[tuple[dict[str, Any], type[Exception], str, str]] = [
    # unknown keys, including the fastembed flavour's and near-misses
    ({"avglen": 3}, bm25x.OptionError, "avglen", ""),
    ({"K": 1.2}, bm25x.OptionError, "K", ""),
    ({"stop_words": "english"}, bm25x.OptionError, "stop_words", ""),
    ({"token_max_length": 3}, bm25x.OptionError, "token_max_length", ""),
    ({"disable_stemmer": True}, bm25x.OptionError, "disable_stemmer", ""),
    ({"flavor": "elastic"}, bm25x.OptionError, "flavor", ""),
    ({"flavor": 1}, TypeError, "flavor", ""),
    # wrong types
    ({"k": "1.2"}, TypeError, "k", '"k" must be a number'),
    ({"b": [0.5]}, TypeError, "b", ""),
    ({"avg_len": {"x": 1}}, TypeError, "avg_len", ""),
    ({"tokenizer": 1}, TypeError, "tokenizer", ""),
    ({"tokenizer": ["word"]}, TypeError, "tokenizer", ""),
    ({"language": 3}, TypeError, "language", ""),
    ({"language": ["english"]}, TypeError, "language", ""),
    ({"lowercase": 1}, TypeError, "lowercase", ""),
    ({"lowercase": "true"}, TypeError, "lowercase", ""),
    ({"ascii_folding": 0}, TypeError, "ascii_folding", ""),
    ({"min_token_len": 1.0}, TypeError, "min_token_len", ""),
    ({"max_token_len": "3"}, TypeError, "max_token_len", ""),
    # bool where a number is expected (JSON true is not a number)
    ({"k": True}, TypeError, "k", ""),
    ({"b": False}, TypeError, "b", ""),
    ({"avg_len": True}, TypeError, "avg_len", ""),
    ({"min_token_len": True}, TypeError, "min_token_len", ""),
    ({"max_token_len": False}, TypeError, "max_token_len", ""),
    # out of range
    ({"k": -1}, bm25x.OptionError, "k", "'k'|\"k\""),
    ({"k": -1e-300}, bm25x.OptionError, "k", ""),
    # Accepted by Qdrant, but its weights are inf or NaN.
    ({"k": 1e300, "avg_len": 1e-300}, bm25x.OptionError, "k", ""),
    ({"k": 0, "avg_len": 5e-324}, bm25x.OptionError, "avg_len", ""),
    ({"k": math.nan}, bm25x.OptionError, "k", '"k"'),
    ({"k": math.inf}, bm25x.OptionError, "k", ""),
    ({"k": -math.inf}, bm25x.OptionError, "k", ""),
    ({"b": -0.1}, bm25x.OptionError, "b", ""),
    ({"b": 1.0000001}, bm25x.OptionError, "b", ""),
    ({"b": 2}, bm25x.OptionError, "b", '"b"'),
    ({"b": math.nan}, bm25x.OptionError, "b", ""),
    ({"b": math.inf}, bm25x.OptionError, "b", ""),
    ({"avg_len": 0}, bm25x.OptionError, "avg_len", '"avg_len"'),
    ({"avg_len": 0.0}, bm25x.OptionError, "avg_len", ""),
    ({"avg_len": -0.0}, bm25x.OptionError, "avg_len", ""),
    ({"avg_len": -1}, bm25x.OptionError, "avg_len", ""),
    ({"avg_len": math.nan}, bm25x.OptionError, "avg_len", ""),
    ({"avg_len": math.inf}, bm25x.OptionError, "avg_len", '"avg_len"'),
    ({"min_token_len": -1}, bm25x.OptionError, "min_token_len", "min_token_len"),
    ({"max_token_len": -2}, bm25x.OptionError, "max_token_len", ""),
    ({"max_token_len": 2**70}, bm25x.OptionError, "max_token_len", ""),
    # unknown names
    ({"tokenizer": "Word"}, bm25x.OptionError, "tokenizer", ""),
    ({"tokenizer": "words"}, bm25x.OptionError, "tokenizer", ""),
    ({"tokenizer": ""}, bm25x.OptionError, "tokenizer", ""),
    ({"language": "English"}, bm25x.OptionError, "language", "case-sensitive"),
    ({"language": "klingon"}, bm25x.OptionError, "language", "unsupported language"),
    ({"language": "EN"}, bm25x.OptionError, "language", ""),
    ({"language": ""}, bm25x.OptionError, "language", ""),
    ({"language": "None"}, bm25x.OptionError, "language", ""),
    # malformed stopwords
    ({"stopwords": "klingon"}, bm25x.OptionError, "stopwords", ""),
    ({"stopwords": "tamil"}, bm25x.OptionError, "stopwords", ""),
    ({"stopwords": "none"}, bm25x.OptionError, "stopwords", ""),
    ({"stopwords": "English"}, bm25x.OptionError, "stopwords", ""),
    ({"stopwords": 3}, TypeError, "stopwords", '"stopwords"'),
    ({"stopwords": True}, TypeError, "stopwords", ""),
    ({"stopwords": ["the"]}, TypeError, "stopwords", ""),
    ({"stopwords": {"languages": "english"}}, TypeError, "stopwords.languages", ""),
    ({"stopwords": {"languages": ["armenian"]}}, bm25x.OptionError, "stopwords.languages", ""),
    ({"stopwords": {"languages": [1]}}, TypeError, "stopwords.languages", ""),
    ({"stopwords": {"custom": "the"}}, TypeError, "stopwords.custom", ""),
    ({"stopwords": {"custom": [1]}}, TypeError, "stopwords.custom", ""),
    ({"stopwords": {"custom": [None]}}, TypeError, "stopwords.custom", ""),
    ({"stopwords": {"language": ["english"]}}, bm25x.OptionError, "stopwords.language", ""),
    # malformed stemmer
    ({"stemmer": "english"}, TypeError, "stemmer", ""),
    ({"stemmer": ["snowball", "english"]}, TypeError, "stemmer", ""),
    ({"stemmer": {}}, bm25x.OptionError, "stemmer", ""),
    ({"stemmer": {"language": "english"}}, bm25x.OptionError, "stemmer", ""),
    ({"stemmer": {"type": "snowball"}}, bm25x.OptionError, "stemmer.language", ""),
    (
        {"stemmer": {"type": "snowball", "language": "chinese"}},
        bm25x.OptionError,
        "stemmer.language",
        "snowball",
    ),
    (
        {"stemmer": {"type": "snowball", "language": "English"}},
        bm25x.OptionError,
        "stemmer.language",
        "",
    ),
    ({"stemmer": {"type": "snowball", "language": 1}}, TypeError, "stemmer.language", ""),
    ({"stemmer": {"type": "porter"}}, bm25x.OptionError, "stemmer.type", "stemmer.type"),
    ({"stemmer": {"type": "Snowball", "language": "en"}}, bm25x.OptionError, "stemmer.type", ""),
    ({"stemmer": {"type": None}}, TypeError, "stemmer.type", ""),
    ({"stemmer": {"type": "none", "extra": 1}}, bm25x.OptionError, "stemmer.extra", ""),
    # what the message says besides the option's name
    ({"lowercase": "yes"}, TypeError, "lowercase", '"lowercase" must be a boolean'),
    ({"tokenizer": "sentencepiece"}, bm25x.OptionError, "tokenizer", "accepted: word, whitespace"),
    ({"stopwords": {"languages": ["xx"]}}, bm25x.OptionError, "stopwords.languages", ""),
    ({"stopwords": {"words": ["a"]}}, bm25x.OptionError, "stopwords.words", ""),
    ({"max_token_len": 2.5}, TypeError, "max_token_len", ""),
    ({"avglen": 100}, bm25x.OptionError, "avglen", 'unknown option "avglen"'),
    (
        {"token_max_length": 10},
        bm25x.OptionError,
        "token_max_length",
        'flavor="fastembed"|flavor=\\"fastembed\\"',
    ),
    ({"flavor": "bm42"}, bm25x.OptionError, "flavor", "unknown flavor"),
    ({"flavor": "fastembed", "tokenizer": "word"}, bm25x.OptionError, "tokenizer", "qdrant"),
    ({"flavor": "fastembed", "language": "en"}, bm25x.OptionError, "language", "fastembed flavour"),
    ({"min_token_len": 10**40}, TypeError, "min_token_len", ""),
    ({"k": _NotJson()}, TypeError, "k", "JSON value"),
]


@pytest.mark.parametrize(("options", "error", "name", "says"), BAD, ids=[repr(b[0]) for b in BAD])
def test_bad_option_raises_a_typed_error_naming_it(
    options: dict[str, Any], error: type[Exception], name: str, says: str
) -> None:
    with pytest.raises(error, match=re.escape(f'"{name}"')) as info:
        bm25x.Bm25(**options)
    assert re.search(says, str(info.value)), str(info.value)
    # OptionError is a ValueError; a type error is never an OptionError.
    assert isinstance(info.value, ValueError) == (error is bm25x.OptionError)


def test_option_error_is_a_value_error() -> None:
    assert issubclass(bm25x.OptionError, ValueError)


def test_messages_list_what_is_accepted() -> None:
    with pytest.raises(bm25x.OptionError) as info:
        bm25x.Bm25(tokenizer="words")
    assert "whitespace" in str(info.value) and "prefix" in str(info.value)
    with pytest.raises(bm25x.OptionError) as info:
        bm25x.Bm25(language="English")
    assert "english (en)" in str(info.value)
    with pytest.raises(bm25x.OptionError) as info:
        bm25x.Bm25(avglen=3)
    assert "avg_len" in str(info.value)


# Values Qdrant's Bm25Config accepts: bm25x accepts them and matches the oracle.
GOOD: list[dict[str, Any]] = [
    {},
    {"k": 1, "b": 1, "avg_len": 100},
    {"k": 0, "b": 0, "avg_len": 1},
    {"k": 0.0, "b": 0.0},
    {"k": 1e38, "avg_len": 1e-300},
    {"avg_len": 5e-324},
    {"k": None, "b": None, "avg_len": None},
    {
        "tokenizer": None,
        "language": None,
        "lowercase": None,
        "ascii_folding": None,
        "stopwords": None,
        "stemmer": None,
        "min_token_len": None,
        "max_token_len": None,
    },
    {"min_token_len": 0, "max_token_len": 0},
    {"min_token_len": 0},
    {"max_token_len": 10**6},
    {"stopwords": {}},
    {"stopwords": {"languages": None, "custom": None}},
    {"stopwords": {"languages": [], "custom": []}},
    {"stopwords": {"languages": ["en", "english", "de"]}},
    {"stopwords": {"custom": ("The", "Cookies")}},
    {"stopwords": {"custom": {"The", "COOKIES"}}, "lowercase": False},
    {"stopwords": {"languages": ("hi-en", "jp")}},
    {"stemmer": {"type": "none"}},
    {"stemmer": {"type": "snowball", "language": "en"}},
    {"stemmer": {"type": "snowball", "language": "hy"}, "language": "none"},
    {"language": "none"},
    {"language": "ta"},
    {"language": "hy"},
    {"language": "hi-en"},
    {"language": "jp"},
    {"tokenizer": "word"},
    {"tokenizer": "whitespace"},
    {"tokenizer": "prefix", "min_token_len": 2, "max_token_len": 4},
    {"flavor": "qdrant", "lowercase": False, "ascii_folding": True},
]


@pytest.mark.parametrize("options", GOOD, ids=repr)
def test_accepted_like_qdrant(options: dict[str, Any]) -> None:
    enc = bm25x.Bm25(**options)
    server = {k: v for k, v in options.items() if k != "flavor"}
    ref = oracle(server)
    assert_same(enc.encode(TEXT), ref.embed_document(TEXT), options)
    assert_same(enc.encode_query(TEXT), ref.embed_query(TEXT), options)


@pytest.mark.parametrize(
    "language", sorted(set(STOPWORD_LANGUAGES.values()) | set(STEMMER_LANGUAGES.values()))
)
def test_every_alias_equals_its_name(language: str) -> None:
    name = next(
        n
        for table in (STOPWORD_LANGUAGES, STEMMER_LANGUAGES)
        for n, a in table.items()
        if a == language
    )
    assert bm25x.Bm25(language=language) == bm25x.Bm25(language=name)
    assert bm25x.Bm25(language=language).config == bm25x.Bm25(language=name).config


def test_ints_and_floats_give_the_same_encoder() -> None:
    assert bm25x.Bm25(k=1, b=1, avg_len=100) == bm25x.Bm25(k=1.0, b=1.0, avg_len=100.0)
    assert bm25x.Bm25(k=None) == bm25x.Bm25()


def test_huge_integer_for_a_float_option() -> None:
    # avg_len does not fit i128, so it is read as a float (k must stay below 1e38).
    enc = bm25x.Bm25(k=2**120, avg_len=2**200)
    assert_same(enc.encode(TEXT), oracle({"k": 2**120, "avg_len": 2**200}).embed_document(TEXT))


@pytest.mark.parametrize(
    "options",
    [{"k": np.int64(2)}, {"b": np.float32(0.5)}, {"min_token_len": np.int64(2)}],
    ids=repr,
)
def test_numpy_scalars(options: dict[str, Any]) -> None:
    plain = {k: v.item() for k, v in options.items()}
    assert bm25x.Bm25(**options) == bm25x.Bm25(**plain)
    assert_same(bm25x.Bm25(**options).encode(TEXT), oracle(plain).embed_document(TEXT))
