"""Differential tests: bm25x (``flavor="fastembed"``) against fastembed's own ``Bm25``
(``Qdrant/bm25``, fastembed 0.9.1), run offline from a model directory built from bm25x's own
stopword lists.

Rule: a document gives the same index *set* as fastembed (whose indices come in first-occurrence
order), and for every index bm25x's float32 value equals fastembed's float64 value rounded to
float32. A query gives the same id set (fastembed's come in Python set order), all values 1.
The oracle and the comparison helpers are in `fastembed_oracle.py`.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import require, require_dir
from support.strategies import ALL_WORDS, REPO, STOPWORD_DIR, WORDS, examples, read_stopwords, texts

import bm25x
from bm25x import _native

require("fastembed")

from support.fastembed_oracle import (
    LANGUAGES,
    STOPWORD_FILE_LANGUAGES,
    as_dict,
    assert_document,
    assert_query,
    build_model_dir,
    oracle,
)

SHARED = REPO.parent / "shared"
FASTEMBED_STOPWORDS = SHARED / "stopwords" / "fastembed-hf-Qdrant-bm25"
CORPORA = SHARED / "corpora"

# The bm25x tables of Python's `\w` and case rules come from one Unicode version. Under a Python
# with another one, characters assigned or re-categorised since differ by design.
SAME_UNICODE = unicodedata.unidata_version == _native.PYTHON_WORD_UNICODE_VERSION

# The tokenizer's corners, each checked against fastembed (see the spec, section 3).
TRICKY = [
    "foo_bar",
    "_",
    "__",
    "a_b",
    "_x_",
    "avg_len",
    "a" * 41,
    "b" * 40,
    "é" * 41,
    "x" * 38 + "ing",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "नमस्ते दुनिया",
    "தமிழ் மொழி",
    "มาทำงานกันเถอะ",
    "مُدَرِّسٌ",
    "أبٌ",
    "شَيْءٌ",
    "שָׁלוֹם",
    "İstanbul",
    "İ",
    "Iİiı",
    "ΟΔΟΣ",
    "ΣΑΣ",
    "Σ",
    "ʕΣ",
    "AʕΣ",
    "AΣʰ",
    "ΣΣΣ",
    "Ⓐⓑⓒ",
    "🄰🄱",
    "ـ",
    "ـــ",
    "كتـــاب",
    "ـكتاب",
    "123",
    "٣٤",
    "x²",
    "½",
    "😀",
    "👩\u200d💻",
    "a\u200bb",
    "\u200d",
    "\ufeff",
    "don't",
    "l’homme",
    "hello",
    "ccphujgn",
    "akqlrggi",
    "ʰ",
    "ß",
    "ﬁ",
    "K",
]
SEPARATORS = [" ", " ", "\n", ", ", "-", "'", "_", "\u00a0", ""]


# --- the oracle ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("fastembed-Qdrant-bm25"))


def fastembed_oracle(model_dir: Path, options: dict[str, Any]) -> Any:
    return oracle(model_dir, options)


def bm25x_encoder(options: dict[str, Any]) -> bm25x.Bm25:
    return bm25x.Bm25(flavor="fastembed", **options)


def check(model_dir: Path, options: dict[str, Any], batch: list[str]) -> None:
    """Documents (one by one and as a batch) and queries of `batch` agree with fastembed."""
    ref = fastembed_oracle(model_dir, options)
    enc = bm25x_encoder(options)
    want_docs = list(ref.embed(batch))
    got_batch = enc.encode(batch)
    assert len(got_batch) == len(batch) == len(want_docs)
    for i, text in enumerate(batch):
        context = (options, text)
        assert_document(enc.encode(text), want_docs[i], context)
        assert_document(got_batch[i], want_docs[i], context)
        assert_query(enc.encode_query(text), next(iter(ref.query_embed(text))), context)


def portable(text: str) -> str:
    """Under a Python whose Unicode version differs from bm25x's tables, keep only characters
    that Unicode 3.2 already had with the same category (both sides then agree)."""
    if SAME_UNICODE:
        return text
    old = unicodedata.ucd_3_2_0
    return "".join(
        c for c in text if old.category(c) != "Cn" and old.category(c) == unicodedata.category(c)
    )


# --- the model directory ------------------------------------------------------------------------


def test_model_dir_has_every_language(model_dir: Path) -> None:
    assert sorted(p.stem for p in model_dir.glob("*.txt")) == STOPWORD_FILE_LANGUAGES
    ref = fastembed_oracle(model_dir, {"language": "german"})
    assert ref.stopwords == set(read_stopwords("german"))
    assert fastembed_oracle(model_dir, {"language": "tamil"}).stopwords == set()


@require_dir(FASTEMBED_STOPWORDS, "../shared/stopwords")
@pytest.mark.parametrize("language", STOPWORD_FILE_LANGUAGES)
def test_bm25x_stopword_lists_equal_fastembeds(language: str) -> None:
    """fastembed reads its files' lines as they are; bm25x's copies hold the same set."""
    theirs = (FASTEMBED_STOPWORDS / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    ours = (STOPWORD_DIR / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    assert set(ours) == set(theirs)


# --- exhaustive character checks ----------------------------------------------------------------


def _all_chars() -> list[str]:
    return [chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]


def _mismatches(model_dir: Path, texts_: list[str], chunk: int = 4000) -> list[str]:
    """The texts whose query ids differ (no stemmer, no stopwords); checked in big chunks first."""
    options: dict[str, Any] = {"disable_stemmer": True, "stopwords": []}
    ref = fastembed_oracle(model_dir, options)
    enc = bm25x_encoder(options)

    def same(text: str) -> bool:
        want = set(next(iter(ref.query_embed(text))).indices.tolist())
        return want == set(enc.encode_query(text).indices.tolist())

    bad = []
    for start in range(0, len(texts_), chunk):
        part = texts_[start : start + chunk]
        if not same(" ".join(part)):
            bad += [t for t in part if not same(t)]
    return bad


@pytest.mark.skipif(not SAME_UNICODE, reason="bm25x's tables are for another Unicode version")
def test_every_code_point_is_a_word_char_exactly_when_python_says_so(model_dir: Path) -> None:
    assert _mismatches(model_dir, ["x" + c + "y" for c in _all_chars()], chunk=20000) == []


@pytest.mark.skipif(not SAME_UNICODE, reason="bm25x's tables are for another Unicode version")
def test_every_word_char_lowercases_as_python_does(model_dir: Path) -> None:
    """Each word char alone and around a capital sigma, whose final form depends on whether
    its neighbours are cased or case-ignorable (U+0295 is cased in Python 3.11 only)."""
    chars = [c for c in _all_chars() if re.match(r"\w", c)]
    contexts = ["{}", "{}Σ", "A{}Σ", "AΣ{}", "AΣ{}B", "Σ{}"]
    for context in contexts:
        assert _mismatches(model_dir, [context.format(c) for c in chars]) == [], context


@pytest.mark.skipif(not SAME_UNICODE, reason="bm25x's tables are for another Unicode version")
def test_whitespace_isolates_words_for_the_final_sigma(model_dir: Path) -> None:
    """fastembed lowercases the whole text; bm25x lowercases each run of word chars. That is
    the same because whatever separates two runs (whitespace, after fastembed's first pass) is
    neither cased nor case-ignorable."""
    spaces = [c for c in _all_chars() if re.match(r"\s", c)]
    contexts = ["AΣ{}B", "A{}Σ", "A{}ΣB", "AΣ{}", "{}Σ"]
    texts_ = [context.format(c) for c in spaces for context in contexts]
    texts_ += [
        context.format(c)
        for c in ["-", "'", "\u0301", "\u00ad", ".", "\u200d"]
        for context in contexts
    ]
    assert _mismatches(model_dir, texts_, chunk=1) == []


# --- fixed examples -----------------------------------------------------------------------------


def test_published_example(model_dir: Path) -> None:
    text = "Recipe for baking chocolate chip cookies"
    want = next(iter(fastembed_oracle(model_dir, {}).embed([text])))
    got = bm25x_encoder({}).encode(text)
    assert_document(got, want, text)
    assert got.indices.tolist() == sorted(want.indices.tolist())
    assert got.values.tolist() == [np.float32(1.6697302)] * 5


@pytest.mark.parametrize(
    "text",
    [
        "hello hello ccphujgn",
        "ccphujgn hello hello",
        "hello ccphujgn",
        "ccphujgn hello ccphujgn hello hello",
        "akqlrggi akqlrggi x",
    ],
)
def test_id_collisions_keep_the_value_of_the_later_token(model_dir: Path, text: str) -> None:
    """`hello` and `ccphujgn` hash to h and -h; the token occurring first later wins."""
    check(model_dir, {}, [text])


def test_largest_id_is_two_to_the_31(model_dir: Path) -> None:
    got = bm25x_encoder({}).encode("akqlrggi")
    assert got.indices.tolist() == [2**31]
    check(model_dir, {}, ["akqlrggi"])


@pytest.mark.parametrize("piece", TRICKY)
@pytest.mark.parametrize("language", ["english", "arabic", "greek", "turkish", "tamil"])
def test_tricky_pieces(model_dir: Path, piece: str, language: str) -> None:
    check(model_dir, {"language": language}, [piece, f"{piece} {piece}x the {piece}"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_with_its_words_and_stopwords(model_dir: Path, language: str) -> None:
    words = WORDS.get(language, [])
    stops = read_stopwords(language) if language != "tamil" else []
    rnd = random.Random(language)
    mixed = [w.upper() if rnd.random() < 0.3 else w for w in stops[:40]]
    batch = [
        " ".join(words + mixed),
        " ".join(mixed + TRICKY),
        "",
        " ".join(w for ws in WORDS.values() for w in ws),
    ]
    check(model_dir, {"language": language}, batch)
    check(model_dir, {"language": language, "disable_stemmer": True}, batch)
    check(model_dir, {"language": language, "stopwords": [w.title() for w in words]}, batch)


@pytest.mark.parametrize("max_len", [0, 1, 2, 3, 5, 39, 40, 41, 1000])
def test_token_max_length_counts_code_points_before_stemming(model_dir: Path, max_len: int) -> None:
    batch = [
        "a ab abc abcd runnings nationalization " + "x" * 39 + " " + "y" * 40 + " " + "z" * 41,
        "é éé ééé İİ İstanbul ﬁﬁ ß" + " " + "ж" * 41,
        "तमिल நாடுகள் ʕΣ ΟΔΟΣ",
    ]
    check(model_dir, {"token_max_length": max_len}, batch)
    check(model_dir, {"token_max_length": max_len, "disable_stemmer": True}, batch)


@pytest.mark.parametrize("disable_stemmer", [False, True])
@pytest.mark.parametrize(
    "stopwords",
    [None, [], ["The", "RUNNING", "Cats"], ["ΟΔΟΣ", "ʕΣ", "İstanbul", "stanbul", "I"], ["a b"]],
)
def test_disable_stemmer_and_custom_stopwords(
    model_dir: Path, disable_stemmer: bool, stopwords: list[str] | None
) -> None:
    """`disable_stemmer` drops the bundled list too; explicit stopwords (lowercased) still
    apply."""
    options: dict[str, Any] = {"disable_stemmer": disable_stemmer, "stopwords": stopwords}
    batch = [
        "The cats are running, THE CATS RAN; i am in İstanbul",
        "ΟΔΟΣ οδος ʕΣ ʕς a b",
        "",
    ]
    check(model_dir, options, batch)


# --- hypothesis ---------------------------------------------------------------------------------


def _tricky_text() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(TRICKY), st.sampled_from(ALL_WORDS))
    return st.lists(st.tuples(piece, st.sampled_from(SEPARATORS)), max_size=16).map(
        lambda parts: "".join(p + s for p, s in parts)
    )


def _text(language: str) -> st.SearchStrategy[str]:
    others = ("english", "greek", "arabic", "turkish", "german")
    langs = tuple(dict.fromkeys(((language,) if language != "tamil" else ()) + others))
    return st.one_of(texts(languages=langs), _tricky_text()).map(portable)


def _mixed_case(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.title(), word.swapcase()])


@st.composite
def fastembed_options(draw: st.DrawFn) -> dict[str, Any]:
    options: dict[str, Any] = {"language": draw(st.sampled_from(LANGUAGES))}
    if draw(st.booleans()):
        options["k"] = draw(st.one_of(st.floats(0, 5), st.integers(0, 3)))
    if draw(st.booleans()):
        options["b"] = draw(st.one_of(st.floats(0, 1), st.sampled_from([0, 1])))
    if draw(st.booleans()):
        options["avg_len"] = draw(st.one_of(st.floats(0.01, 1000), st.integers(1, 500)))
    if draw(st.booleans()):
        options["token_max_length"] = draw(st.one_of(st.integers(0, 8), st.integers(30, 50)))
    if draw(st.booleans()):
        options["disable_stemmer"] = draw(st.booleans())
    if draw(st.integers(0, 2)) == 0:
        language = options["language"]
        pool = (read_stopwords(language) if language != "tamil" else []) + WORDS.get(language, [])
        pool += ["ΟΔΟΣ", "ʕΣ", "İstanbul", "foo_bar", "__", "don't", ""]
        chosen = draw(st.lists(st.sampled_from(pool), max_size=12))
        options["stopwords"] = [draw(_mixed_case(w)) for w in chosen]
    return options


@settings(max_examples=examples(300))
@given(data=st.data())
def test_documents_and_queries_match_fastembed(model_dir: Path, data: st.DataObject) -> None:
    options = data.draw(fastembed_options(), label="options")
    batch = data.draw(st.lists(_text(options["language"]), max_size=5), label="batch")
    check(model_dir, options, batch)


@settings(max_examples=examples(80))
@given(text=st.text(max_size=80).map(portable))
def test_arbitrary_unicode_matches_fastembed(model_dir: Path, text: str) -> None:
    check(model_dir, {"disable_stemmer": True, "stopwords": []}, [text])
    check(model_dir, {}, [text])


# --- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"language": "en"},
        {"language": "English"},
        {"language": "chinese"},
        {"language": "klingon"},
        {"language": ""},
    ],
)
def test_unsupported_language_is_a_value_error_in_both(
    model_dir: Path, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="not supported"):
        fastembed_oracle(model_dir, options)
    with pytest.raises(bm25x.OptionError, match="language"):
        bm25x_encoder(options)
    # Without a stemmer the language is not checked, by either; there are no stopwords.
    relaxed = {**options, "disable_stemmer": True}
    check(model_dir, relaxed, ["The cats are running", "i İstanbul"])


@pytest.mark.parametrize(
    "option",
    [
        {"tokenizer": "word"},
        {"lowercase": True},
        {"ascii_folding": False},
        {"min_token_len": 2},
        {"max_token_len": 3},
        {"stemmer": {"type": "none"}},
    ],
)
def test_server_options_are_rejected_by_the_fastembed_flavour(option: dict[str, Any]) -> None:
    name = next(iter(option))
    with pytest.raises(bm25x.OptionError, match=f"{name}.*qdrant"):
        bm25x_encoder(option)


@pytest.mark.parametrize("option", [{"token_max_length": 40}, {"disable_stemmer": True}])
def test_fastembed_options_are_rejected_by_the_server_flavour(option: dict[str, Any]) -> None:
    name = next(iter(option))
    with pytest.raises(bm25x.OptionError, match=f"{name}.*fastembed"):
        bm25x.Bm25(**option)


@pytest.mark.parametrize(
    ("option", "error"),
    [
        # fastembed accepts these and does something surprising; bm25x refuses them.
        ({"stopwords": "the"}, TypeError),  # fastembed: the set of letters {"t", "h", "e"}
        ({"stopwords": {"custom": ["a"]}}, TypeError),  # fastembed: the set of keys
        ({"disable_stemmer": "yes"}, TypeError),  # fastembed: truthy
        ({"token_max_length": 2.5}, TypeError),
        ({"token_max_length": True}, TypeError),  # fastembed: 1
        ({"token_max_length": -1}, bm25x.OptionError),  # fastembed: drops every token
        ({"k": -1.0}, bm25x.OptionError),
        ({"b": 2.0}, bm25x.OptionError),
        # fastembed fails later, on the first document.
        ({"avg_len": 0.0}, bm25x.OptionError),  # ZeroDivisionError
        ({"k": "1.2"}, TypeError),  # TypeError
    ],
)
def test_bm25x_is_stricter_than_fastembed(
    model_dir: Path, option: dict[str, Any], error: type[Exception]
) -> None:
    fastembed_oracle(model_dir, option)  # accepted at construction
    with pytest.raises(error, match=next(iter(option))):
        bm25x_encoder(option)


def test_custom_stemmer_objects_are_not_supported() -> None:
    class Upper:
        def stem_word(self, word: str) -> str:
            return word.upper()

    with pytest.raises(TypeError, match="stemmer"):
        bm25x_encoder({"stemmer": Upper()})


def test_lone_surrogates_are_refused_where_fastembed_splits_on_them(model_dir: Path) -> None:
    """A known divergence: fastembed treats a lone surrogate like any other non-word char (a
    separator); bm25x refuses text that is not valid Unicode, in both flavours."""
    text = "cats\ud800dogs"
    want = next(iter(fastembed_oracle(model_dir, {}).embed([text])))
    assert sorted(want.indices.tolist()) == bm25x_encoder({}).encode("cats dogs").indices.tolist()
    with pytest.raises(ValueError, match="lone surrogate"):
        bm25x_encoder({}).encode(text)


# --- real corpora -------------------------------------------------------------------------------


def _corpus(path: Path, fields: tuple[str, ...]) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [" ".join(json.loads(line).get(k) or "" for k in fields) for line in f]


@require_dir(CORPORA, "../shared/corpora")
@pytest.mark.parametrize(
    ("name", "fields"),
    [("pydocs.jsonl.gz", ("text",)), ("scifact/corpus.jsonl.gz", ("title", "text"))],
)
def test_corpus_documents_match_fastembed_exactly(
    model_dir: Path, name: str, fields: tuple[str, ...]
) -> None:
    """Every document of the shared corpora (about 10 s for both); ``BM25X_CORPUS_SAMPLE=N``
    checks a fixed random sample of N documents instead."""
    docs = _corpus(CORPORA / name, fields)
    sample = int(os.environ.get("BM25X_CORPUS_SAMPLE", "0"))
    if 0 < sample < len(docs):
        docs = random.Random(0).sample(docs, sample)
    want = list(fastembed_oracle(model_dir, {}).embed(docs))
    got = bm25x_encoder({}).encode(docs, threads=2)
    bad = [i for i, w in enumerate(want) if as_dict(got[i]) != as_dict(w)]
    assert bad == [], [docs[i][:200] for i in bad[:3]]
