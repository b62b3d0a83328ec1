"""Differential tests for the `code` tokenizer: bm25x against Qdrant's own BM25 (qdrant-edge-py).

Qdrant's code tokenizer is not public, so bm25x's version was reconstructed by probing the
oracle (see the module doc of rust/core/src/tokenize/code.rs). These tests feed both sides
code-like text (identifiers in every casing convention, acronyms, digits, dotted paths,
operators, Unicode letters with unusual case properties, emoji) under random options, and
require the same indices and bit-identical float32 values, for documents and for queries.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import require
from support.qdrant_oracle import assert_same, oracle
from support.strategies import STEMMER_LANGUAGES, STOPWORD_LANGUAGES, examples

import bm25x

require("qdrant_edge")


def check(options: dict[str, Any], text: str) -> None:
    """Documents and queries of `text` agree with the oracle under `options`."""
    options = {"tokenizer": "code", **options}
    ref = oracle(options)
    enc = bm25x.Bm25(**options)
    context = (options, text)
    assert_same(enc.encode(text), ref.embed_document(text), context)
    assert_same(enc.encode_query(text), ref.embed_query(text), context)


# --- code-like text ------------------------------------------------------------------------------

# Word stems for identifiers: English words the stemmer changes, stopwords, acronyms, single
# letters (including the plural `s` that sticks to acronyms: `URLs`).
WORDS = (
    "get set user name running dogs the a is of to it i s id ids url http server error json xml "
    "parse value values index counter cookies baking html api async await self this init main "
    "straße été naïve über"
).split()
ACRONYMS = "HTTP URL ID API JSON XML HTML IO UI OK DB SQL UTF8 V2 X".split()
# Letters whose case properties are unusual: titlecase, uppercase/lowercase numerals and circled
# letters, caseless scripts, marks, characters that fold or lowercase to several chars.
ODD_CHARS = list("éÉßẞǅǄǆⅫⅻⒶⓐ漢字ΣσςİıſﬁŉÆæøØ²¹٣१ªʰ\u0947\u0301\u094dКж")
DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=4)


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


@st.composite
def identifiers(draw: st.DrawFn) -> str:
    """One identifier in some naming convention."""
    n = draw(st.integers(1, 4))
    chunks = draw(
        st.lists(
            st.one_of(
                st.sampled_from(WORDS),
                st.sampled_from(WORDS),
                st.sampled_from(ACRONYMS),
                st.sampled_from(ACRONYMS).map(lambda a: a + "s"),
                DIGITS,
                st.sampled_from(ODD_CHARS),
            ),
            min_size=n,
            max_size=n,
        )
    )
    style = draw(
        st.sampled_from(["camel", "pascal", "snake", "screaming", "kebab", "dotted", "raw"])
    )
    if style == "camel":
        ident = chunks[0] + "".join(_cap(c) for c in chunks[1:])
    elif style == "pascal":
        ident = "".join(_cap(c) for c in chunks)
    elif style == "snake":
        ident = "_".join(chunks)
    elif style == "screaming":
        ident = "_".join(c.upper() for c in chunks)
    elif style == "kebab":
        ident = "-".join(chunks)
    elif style == "dotted":
        ident = ".".join(chunks)
    else:
        ident = "".join(chunks)
    prefix = draw(st.sampled_from(["", "", "", "_", "__", "$", "@", "#", "0x", "1_"]))
    suffix = draw(st.sampled_from(["", "", "", "_", "__", "()", "[0]", "?", "s", "2", "_t"]))
    return prefix + ident + suffix


SOUP = "aAbBsSzZ019_ÉéǅⅫⅻⒶ漢\u0301 .-$"
SEPARATORS = st.sampled_from(
    [
        " ",
        " ",
        " ",
        "\n",
        "\t",
        ".",
        "::",
        "->",
        "(",
        ")",
        ", ",
        " = ",
        "-",
        "/",
        '"',
        "$",
        "@",
        " + ",
        "\u00a0",
        "😀",
        "👩\u200d💻",
        "\u200b",
        "\x00",
    ]
)


@st.composite
def code_texts(draw: st.DrawFn, max_pieces: int = 16) -> str:
    """Code-ish text: identifiers, numbers and character soup joined by operators/space."""
    pieces = draw(
        st.lists(
            st.one_of(
                identifiers(),
                identifiers(),
                identifiers(),
                st.text(alphabet=SOUP, min_size=1, max_size=10),
                st.sampled_from(["3.14f", "1e-9", "0xFF", "1_000_000", "42", "v1.2.3"]),
            ),
            max_size=max_pieces,
        )
    )
    out: list[str] = []
    for piece in pieces:
        out.append(piece)
        out.append(draw(SEPARATORS))
    return "".join(out[:-1])


# --- option strategies ---------------------------------------------------------------------------

STOP_LANGS = sorted(STOPWORD_LANGUAGES)
STEM_LANGS = sorted(STEMMER_LANGUAGES)
CUSTOM_STOPWORDS = ["get", "GET", "user", "the", "is", "s", "getuser", "http", "id", "i", ""]


@st.composite
def code_options(draw: st.DrawFn) -> dict[str, Any]:
    drawn: dict[str, Any] = {
        "k": draw(st.one_of(st.sampled_from([0.0, 1.2, 2.0]), st.floats(0, 10))),
        "b": draw(st.one_of(st.sampled_from([0.0, 0.75, 1.0]), st.floats(0, 1))),
        "avg_len": draw(st.one_of(st.sampled_from([1.0, 3.0, 256.0]), st.floats(0.01, 1000))),
        "language": draw(st.sampled_from(["english", "german", "none", "french"])),
        "lowercase": draw(st.booleans()),
        "ascii_folding": draw(st.booleans()),
        "stopwords": draw(
            st.one_of(
                st.sampled_from(["english", "german"]),
                st.fixed_dictionaries(
                    {
                        "languages": st.lists(st.sampled_from(STOP_LANGS), max_size=2),
                        "custom": st.lists(st.sampled_from(CUSTOM_STOPWORDS), max_size=4),
                    }
                ),
            )
        ),
        "stemmer": draw(
            st.one_of(
                st.just({"type": "none"}),
                st.sampled_from(STEM_LANGS).map(
                    lambda lang: {"type": "snowball", "language": lang}
                ),
            )
        ),
        "min_token_len": (low := draw(st.integers(0, 5))),
        # bm25x refuses min_token_len > max_token_len (test_bad_input covers it)
        "max_token_len": draw(st.integers(low, 12)),
    }
    keep = draw(st.lists(st.booleans(), min_size=len(drawn), max_size=len(drawn)))
    return {key: value for (key, value), kept in zip(drawn.items(), keep) if kept}


# --- tests ---------------------------------------------------------------------------------------

FIXED = [
    "getUserName get_user_name HTTPServerError parseJSON2XML foo.bar(baz)",
    "user123Name iPhone IPhone IPHONE ipHONE __init__ été_Été ÉtéÉté",
    "URLs getURLsFor getIDs AAs1 AAst ABss ABCdef ABC123DEF aBC",
    "1_000 0xFF 1abCd 3.14f _1_a 1_a 9_9_9 ²abc_def ٣abc_def x_1AB foo_1aBc",
    "fooⅫBar AAⅻ AA漢 AAǅ abc漢字Def ǅemal İstanbulCity ΣίσυφοςΑβγ नमस्तेWorld",
    "theCat the_cat runningDogs straßeName Ærodynamic fooÆon ﬁleName",
    "a_b a__b _ __ ___x___ $foo foo$bar foo-bar a🙂b a\u0301B",
    "getUser getUser get_get",
]


@pytest.mark.parametrize("text", FIXED)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"lowercase": False},
        {"language": "none"},
        {"language": "none", "lowercase": False, "ascii_folding": True},
        {"ascii_folding": True},
        {"stopwords": {"languages": [], "custom": ["get", "the", "user"]}},
        {"min_token_len": 2, "max_token_len": 4},
        {"stemmer": {"type": "none"}, "max_token_len": 3, "k": 2.0, "b": 1.0, "avg_len": 3.0},
    ],
)
def test_fixed(options: dict[str, Any], text: str) -> None:
    check(options, text)


@settings(max_examples=examples(300))
@given(options=code_options(), text=code_texts())
def test_random_options(options: dict[str, Any], text: str) -> None:
    check(options, text)


@settings(max_examples=examples(200))
@given(text=code_texts(), lowercase=st.booleans())
def test_default_options(text: str, lowercase: bool) -> None:
    check({"lowercase": lowercase, "stemmer": {"type": "none"}}, text)
    check({"lowercase": lowercase}, text)


@settings(max_examples=examples(300))
@given(text=st.text(alphabet=SOUP, max_size=24))
def test_character_soup(text: str) -> None:
    """Short strings over a tiny alphabet reach every case-transition corner."""
    for lowercase in (True, False):
        check({"lowercase": lowercase, "language": "none"}, text)


@settings(max_examples=examples(200))
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_arbitrary_unicode(text: str) -> None:
    for folding in (False, True):
        for lowercase in (False, True):
            check({"ascii_folding": folding, "lowercase": lowercase}, text)
