"""Differential tests: bm25x (server flavour) against Qdrant's own BM25 (qdrant-edge-py).

For the word, whitespace and prefix tokenizers, every option combination must give the same
indices and bit-identical float32 values as the oracle, for documents and for queries.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.qdrant_oracle import as_arrays, assert_same, oracle
from support.strategies import (
    ALL_LANGUAGES,
    HAZARDS,
    STEMMER_LANGUAGES,
    STOPWORD_LANGUAGES,
    WORDS,
    examples,
    read_stopwords,
    text_lists,
    texts,
    words,
)

import bm25x

TOKENIZERS = ["word", "whitespace", "prefix"]

LANGUAGE_NAMES = sorted(
    set(STOPWORD_LANGUAGES)
    | set(STOPWORD_LANGUAGES.values())
    | set(STEMMER_LANGUAGES)
    | set(STEMMER_LANGUAGES.values())
)
STOPWORD_NAMES = sorted(set(STOPWORD_LANGUAGES) | set(STOPWORD_LANGUAGES.values()))
STEMMER_NAMES = sorted(set(STEMMER_LANGUAGES) | set(STEMMER_LANGUAGES.values()))

FIXED_TEXTS = [
    "",
    "Recipe for baking chocolate chip cookies",
    "How to bake cookies?",
    "The the THE tHe running Runs ran",
    "İstanbul ILIK ılık Iğdır",
    "ΟΔΟΣ ΣΟΦΟΣ σοφός Σ ς",
    "straße STRASSE ẞ ﬁne ﬂower café naïve Ærøskøbing",
    "Ⓐⓑⓒ 🄰🄱 ½ x² Ⅻ ٣٤ १२",
    "foo_bar a_b _ __ don't can’t well-known e-mail",
    "नमस्ते दुनिया தமிழ் மொழி มาทำงานกันเถอะ",
    "الكتاب ـ كتـــاب مُدَرِّسٌ أبٌ",
    "שָׁלוֹם עולם",
    "今天是星期一 こんにちは",
    "zero\u200bwidth soft\u00adhyphen join\u200dner non\u200cjoiner nul\x00here \x00",
    "a" * 60 + " short " + "é" * 45,
    "hello hello akqlrggi",
    "the of and a to in is it",
    "😀 👩\u200d💻 🇫🇷 emoji",
]


def bm25x_vectors(options: dict[str, Any], text: str) -> tuple[Any, Any]:
    enc = bm25x.Bm25(**options)
    return enc.encode(text), enc.encode_query(text)


def contradictory(options: dict[str, Any]) -> bool:
    """min_token_len > max_token_len: Qdrant accepts it (and empties every document), bm25x
    refuses it with an OptionError naming both."""
    low, high = options.get("min_token_len"), options.get("max_token_len")
    return low is not None and high is not None and low > high


def check(options: dict[str, Any], text: str) -> None:
    """Documents and queries of `text` agree with the oracle under `options`."""
    if contradictory(options):
        with pytest.raises(bm25x.OptionError, match="greater than max_token_len"):
            bm25x.Bm25(**options)
        return
    ref = oracle(options)
    doc, query = bm25x_vectors(options, text)
    context = (options, text)
    assert_same(doc, ref.embed_document(text), context)
    assert_same(query, ref.embed_query(text), context)


# --- option strategies -------------------------------------------------------------------------

lengths = st.one_of(st.none(), st.integers(0, 8), st.sampled_from([0, 1, 40, 1000]))
k_values = st.one_of(
    st.none(),
    st.sampled_from([0, 0.0, 1, 1.2, 2, 1e-9, 1e6]),
    st.floats(0, 100, allow_nan=False),
)
b_values = st.one_of(st.none(), st.sampled_from([0, 0.0, 1, 1.0, 0.75]), st.floats(0, 1))
avg_len_values = st.one_of(
    st.none(),
    st.sampled_from([1, 256, 0.5, 1e-300, 5e-324, 1e-6, 1e300, 1.7976931348623157e308, 3]),
    st.floats(1e-3, 1e6),
)


def stopwords_values() -> st.SearchStrategy[Any]:
    custom = st.lists(
        st.one_of(words(), st.sampled_from(["Foo", "BAR", "Straße", "İ", "ΣΟΦΟΣ", "the", ""])),
        max_size=6,
    )
    languages = st.lists(st.sampled_from(STOPWORD_NAMES), max_size=3)
    mapping = st.fixed_dictionaries(
        {},
        optional={
            "languages": st.one_of(st.none(), languages),
            "custom": st.one_of(st.none(), custom),
        },
    )
    return st.one_of(st.none(), st.sampled_from(STOPWORD_NAMES), mapping)


stemmer_values = st.one_of(
    st.none(),
    st.just({"type": "none"}),
    st.builds(lambda lang: {"type": "snowball", "language": lang}, st.sampled_from(STEMMER_NAMES)),
)


@st.composite
def server_options(draw: st.DrawFn, tokenizers: list[str] = TOKENIZERS) -> dict[str, Any]:
    drawn = {
        "k": draw(k_values),
        "b": draw(b_values),
        "avg_len": draw(avg_len_values),
        "tokenizer": draw(st.one_of(st.none(), st.sampled_from(tokenizers))),
        "language": draw(st.one_of(st.none(), st.sampled_from([*LANGUAGE_NAMES, "none"]))),
        "lowercase": draw(st.one_of(st.none(), st.booleans())),
        "ascii_folding": draw(st.one_of(st.none(), st.booleans())),
        "stopwords": draw(stopwords_values()),
        "stemmer": draw(stemmer_values),
        "min_token_len": draw(lengths),
        "max_token_len": draw(lengths),
    }
    # Leave some keys out entirely, and pass some as explicit None (Qdrant's JSON null).
    keep = draw(st.lists(st.booleans(), min_size=len(drawn), max_size=len(drawn)))
    options = {key: value for (key, value), kept in zip(drawn.items(), keep) if kept}
    if contradictory(options):  # refused by bm25x; test_token_length_limits covers that
        options["min_token_len"], options["max_token_len"] = (
            options["max_token_len"],
            options["min_token_len"],
        )
    k, b, avg_len = (options.get(key) for key in ("k", "b", "avg_len"))
    if k == 0 and (b is None or b > 0) and avg_len is not None and avg_len < 1e-280:
        # Refused by bm25x (Qdrant stores NaN weights there); test_bad_input covers that.
        del options["avg_len"]
    return options


def language_of(options: dict[str, Any]) -> tuple[str, ...] | None:
    """The languages whose words the text should contain, so the options have work to do."""
    names = [options.get("language"), options.get("stopwords")]
    stemmer = options.get("stemmer") or {}
    names.append(stemmer.get("language"))
    found = []
    for name in names:
        if not isinstance(name, str):
            continue
        for canonical in ALL_LANGUAGES:
            if name in (
                canonical,
                STOPWORD_LANGUAGES.get(canonical),
                STEMMER_LANGUAGES.get(canonical),
            ):
                found.append(canonical)
    return tuple(found) or None


# --- hypothesis: options and texts together ------------------------------------------------------


@settings(max_examples=examples(500))
@given(st.data())
def test_random_options_and_texts(data: st.DataObject) -> None:
    options = data.draw(server_options(), label="options")
    text = data.draw(texts(languages=language_of(options)), label="text")
    check(options, text)


@settings(max_examples=examples(200))
@given(options=server_options(), text=st.sampled_from(FIXED_TEXTS))
def test_random_options_fixed_texts(options: dict[str, Any], text: str) -> None:
    check(options, text)


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@settings(max_examples=examples(150))
@given(text=texts())
def test_default_options_per_tokenizer(tokenizer: str, text: str) -> None:
    check({"tokenizer": tokenizer}, text)


@settings(max_examples=examples(200))
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_arbitrary_unicode(text: str) -> None:
    for tokenizer in TOKENIZERS:
        for folding in (False, True):
            check({"tokenizer": tokenizer, "ascii_folding": folding}, text)


# --- every language, by name and by alias ------------------------------------------------------


@pytest.mark.parametrize("language", [*LANGUAGE_NAMES, "none"])
@settings(max_examples=examples(20))
@given(data=st.data())
def test_language(language: str, data: st.DataObject) -> None:
    options = {"language": language}
    canonical = next(
        (
            c
            for c in ALL_LANGUAGES
            if language in (c, STOPWORD_LANGUAGES.get(c), STEMMER_LANGUAGES.get(c))
        ),
        None,
    )
    tokenizer = data.draw(st.sampled_from(TOKENIZERS), label="tokenizer")
    options["tokenizer"] = tokenizer
    text = data.draw(texts(languages=(canonical,) if canonical else None), label="text")
    check(options, text)


@pytest.mark.parametrize("language", STOPWORD_NAMES)
def test_stopword_language_forms(language: str) -> None:
    canonical = next(c for c, a in STOPWORD_LANGUAGES.items() if language in (c, a))
    sample = read_stopwords(canonical)[:60]
    text = " ".join(sample + [w.upper() for w in sample[:10]] + ["Cookies", "Москва", "λόγος"])
    for stopwords in (
        language,
        {"languages": [language]},
        {"languages": [language], "custom": ["cookies"]},
        {"languages": [language, "english"]},
    ):
        for lowercase in (True, False):
            for stemmer in ({"type": "none"}, None):
                options = {"stopwords": stopwords, "lowercase": lowercase}
                if stemmer is not None:
                    options["stemmer"] = stemmer
                check(options, text)
                check({**options, "tokenizer": "whitespace"}, text)


@pytest.mark.parametrize("language", STEMMER_NAMES)
def test_stemmer_language_forms(language: str) -> None:
    canonical = next(c for c, a in STEMMER_LANGUAGES.items() if language in (c, a))
    text = " ".join(WORDS.get(canonical, []) + WORDS["english"] + ["ـ", "ـــ", "Ⓐⓑ"])
    for options in (
        {"language": "none", "stemmer": {"type": "snowball", "language": language}},
        {"stemmer": {"type": "snowball", "language": language}, "stopwords": {}},
        {"language": language, "stemmer": {"type": "none"}},
        {"language": language},
    ):
        for tokenizer in TOKENIZERS:
            check({**options, "tokenizer": tokenizer}, text)


# --- stopwords: custom lists, case, emptiness ----------------------------------------------------


CUSTOM_LISTS = [
    [],
    ["Foo", "BAR", "baz"],
    ["The", "COOKIES", "Straße", "İstanbul", "ΣΟΦΟΣ", "Ⓐⓑⓒ"],
    ["", " ", "a b", "don't", "foo_bar"],
]


@pytest.mark.parametrize("custom", CUSTOM_LISTS)
@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("tokenizer", TOKENIZERS)
def test_custom_stopwords(custom: list[str], lowercase: bool, tokenizer: str) -> None:
    text = (
        "Foo foo FOO Bar bar BAR baz the The COOKIES cookies Straße straße İstanbul i̇stanbul "
        "ΣΟΦΟΣ σοφος σοφοσ Ⓐⓑⓒ ⓐⓑⓒ don't foo_bar a b"
    )
    for stopwords in (
        {"custom": custom},
        {"languages": ["english"], "custom": custom},
        {"languages": [], "custom": custom},
        {"languages": None, "custom": custom},
    ):
        options = {"stopwords": stopwords, "lowercase": lowercase, "tokenizer": tokenizer}
        check(options, text)
        check({**options, "ascii_folding": True}, text)


@pytest.mark.parametrize("stopwords", [{}, {"languages": []}, {"custom": []}, {"languages": None}])
def test_empty_stopwords_replace_the_language_list(stopwords: dict[str, Any]) -> None:
    text = "the cookies of the world and The Running"
    check({"stopwords": stopwords}, text)
    check({"stopwords": stopwords, "language": "german"}, text + " und der Häuser")


# --- lengths, case, folding ---------------------------------------------------------------------


LENGTHS = [None, 0, 1, 2, 3, 5, 40]


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@pytest.mark.parametrize("min_len", LENGTHS)
@pytest.mark.parametrize("max_len", LENGTHS)
def test_token_length_limits(tokenizer: str, min_len: int | None, max_len: int | None) -> None:
    options = {"tokenizer": tokenizer, "min_token_len": min_len, "max_token_len": max_len}
    for text in FIXED_TEXTS:
        check(options, text)
        check({**options, "stemmer": {"type": "none"}, "ascii_folding": True}, text)


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@pytest.mark.parametrize("lowercase", [None, True, False])
@pytest.mark.parametrize("ascii_folding", [None, True, False])
def test_case_and_folding(
    tokenizer: str, lowercase: bool | None, ascii_folding: bool | None
) -> None:
    options = {"tokenizer": tokenizer, "lowercase": lowercase, "ascii_folding": ascii_folding}
    for text in [*FIXED_TEXTS, " ".join(HAZARDS)]:
        check(options, text)


def test_every_character_alone_and_in_a_word() -> None:
    """Every code point of the BMP and of the common astral blocks, with and without ASCII
    folding and lowercasing, alone, inside a word, and doubled with its upper case; checked in
    chunks (a mismatch names the chunk, small enough to bisect by hand)."""
    points = [*range(0x1, 0xD800), *range(0xE000, 0x10000), *range(0x10000, 0x10500)]
    points += [*range(0x1D400, 0x1D800), *range(0x1F100, 0x1F200), *range(0xE0000, 0xE0080)]
    chars = [chr(c) for c in points]
    for options in (
        {"ascii_folding": True, "language": "none"},
        {"ascii_folding": True, "language": "none", "lowercase": False},
        {"language": "none"},
        {"ascii_folding": True, "language": "none", "tokenizer": "whitespace"},
    ):
        ref = oracle(options)
        enc = bm25x.Bm25(**options)
        for start in range(0, len(chars), 512):
            chunk = chars[start : start + 512]
            for text in (
                " ".join(chunk),
                " ".join(f"x{c}y" for c in chunk),
                " ".join(c + c.upper() for c in chunk),
            ):
                assert_same(enc.encode(text), ref.embed_document(text), (options, chunk[0]))
                assert_same(enc.encode_query(text), ref.embed_query(text), (options, chunk[0]))


# --- BM25 parameters -----------------------------------------------------------------------------


PARAMS = [
    {"k": 0},
    {"k": 0.0, "b": 0},
    {"b": 0},
    {"b": 1},
    {"b": 1.0, "avg_len": 1},
    {"avg_len": 1e-300},
    {"avg_len": 5e-324},
    {"avg_len": 1e-280, "k": 0},
    {"avg_len": 1e300},
    {"avg_len": 1.7976931348623157e308, "b": 1},
    {"k": 1e6, "b": 0.5, "avg_len": 3},
    {"k": 1e-300},
    {"k": 2, "b": 1, "avg_len": 2},
    {"k": 1.5, "b": 0.5, "avg_len": 20},
    {"k": 1, "b": 1, "avg_len": 7},
]


@pytest.mark.parametrize("params", PARAMS, ids=repr)
def test_edge_parameters(params: dict[str, Any]) -> None:
    base = "cookies recipe chocolate chip baking flour sugar butter oven dough"
    for n in (0, 1, 2, 7, 60, 400):
        text = " ".join((base.split() * (n // 10 + 1))[:n]) + " cookies" * (n % 3)
        check(params, text)


@settings(max_examples=examples(200))
@given(
    k=st.floats(0, 1e3),
    b=st.floats(0, 1),
    avg_len=st.floats(1e-6, 1e6),
    n_tokens=st.integers(0, 500),
    repeats=st.integers(1, 50),
)
def test_weight_arithmetic(k: float, b: float, avg_len: float, n_tokens: int, repeats: int) -> None:
    text = " ".join(f"w{i}" for i in range(n_tokens)) + " rep" * repeats
    check({"k": k, "b": b, "avg_len": avg_len, "language": "none"}, text)


# --- the batch path ------------------------------------------------------------------------------


@settings(max_examples=examples(150))
@given(options=server_options(), batch=text_lists(max_size=10))
def test_batch_equals_single_and_oracle(options: dict[str, Any], batch: list[str]) -> None:
    enc = bm25x.Bm25(**options)
    ref = oracle(options)
    for query in (False, True):
        encode = enc.encode_query if query else enc.encode
        embed = ref.embed_query if query else ref.embed_document
        for threads in (1, 3):
            out = encode(batch, threads=threads)
            assert out.indptr.tolist()[0] == 0 and len(out.indptr) == len(batch) + 1
            rows = list(out)
            assert len(rows) == len(batch)
            for text, row in zip(batch, rows):
                single = encode(text)
                assert row.indices.tolist() == single.indices.tolist()
                assert row.values.view(np.uint32).tolist() == single.values.view(np.uint32).tolist()
                assert_same(row, embed(text), (options, text, query, threads))


def test_large_batch_in_parallel() -> None:
    # About 460 KB: above the size under which a batch stays on the calling thread.
    batch = [FIXED_TEXTS[i % len(FIXED_TEXTS)] + f" doc{i}" * (i % 5) for i in range(6000)]
    enc = bm25x.Bm25()
    ref = oracle({})
    out = enc.encode(batch, threads=4)
    indices = np.concatenate([as_arrays(ref.embed_document(t))[0] for t in batch])
    values = np.concatenate([as_arrays(ref.embed_document(t))[1] for t in batch])
    lengths = [len(ref.embed_document(t).indices) for t in batch]
    assert out.indptr.tolist() == np.concatenate([[0], np.cumsum(lengths)]).tolist()
    assert out.indices.tolist() == indices.tolist()
    assert out.values.view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_id_collision_gives_one_of_the_oracle_values() -> None:
    """`hello` and `ccphujgn` share an id; Qdrant keeps either value (HashMap order), bm25x
    deterministically keeps the value of the term that first occurs later."""
    for text in ("hello hello ccphujgn", "ccphujgn hello hello"):
        got = bm25x.Bm25().encode(text)
        seen = {as_arrays(oracle({}).embed_document(text))[1].tobytes() for _ in range(30)}
        assert got.indices.tolist() == [613153351]
        assert got.values.tobytes() in seen


# --- known cases from the specification ----------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "text", "expected"),
    [
        ({}, "Recipe for baking chocolate chip cookies", 5),
        ({}, "İstanbul", 1),
        ({"language": "arabic"}, "ـ", 1),  # an empty stem is kept, id 0
        ({"language": "arabic"}, "أبٌ", 0),  # a stopword only with its harakat kept in the word
        ({"language": "none"}, "Ⓐⓑⓒ", 1),
        ({"language": "none"}, "foo_bar", 2),
        ({"language": "none", "tokenizer": "whitespace"}, "foo_bar, \x00", 2),
        ({"tokenizer": "prefix", "language": "none"}, "hello", 5),
    ],
)
def test_known_cases(options: dict[str, Any], text: str, expected: int) -> None:
    check(options, text)
    assert len(bm25x.Bm25(**options).encode(text).indices) == expected


@pytest.mark.parametrize(
    "options",
    [
        {"tokenizer": "prefix"},
        {"tokenizer": "prefix", "min_token_len": 3, "max_token_len": 150},
        {"tokenizer": "prefix", "min_token_len": 70, "lowercase": False},
        {"tokenizer": "prefix", "ascii_folding": True, "language": "none"},
        {"tokenizer": "prefix", "min_token_len": 0},
        {"tokenizer": "prefix", "min_token_len": 0, "max_token_len": 0},
    ],
    ids=repr,
)
def test_long_prefix_words(options: dict[str, Any]) -> None:
    # Words past bm25x's memoised length are counted per document; repeats, shared prefixes,
    # multi-byte characters and hash collisions between prefixes must all come out as Qdrant's.
    long = "Ab" * 400
    text = f"{long} {long}x {long[:100]} the {long} x{long} {'é' * 300} Éé{'ß' * 90}"
    check(options, text)
    check(options, " ".join(f"{long[:k]}Z" for k in range(60, 200, 7)))
