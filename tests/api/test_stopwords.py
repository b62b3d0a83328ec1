"""bm25x's compiled stopword lists, word by word against Qdrant's (qdrant-edge-py), and as sets
against the lists extracted from the Qdrant server sources (``../shared/stopwords``, when present).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import require_dir
from support.qdrant_oracle import assert_same, oracle
from support.strategies import REPO, STOPWORD_DIR, STOPWORD_LANGUAGES, WORDS, read_stopwords

import bm25x

SHARED = REPO.parent / "shared" / "stopwords" / "qdrant-server"
LANGUAGES = sorted(STOPWORD_LANGUAGES)


def test_the_compiled_lists_are_the_thirty_languages() -> None:
    files = {p.stem for p in STOPWORD_DIR.glob("*.txt")}
    assert files == set(LANGUAGES)


def _options(language: str) -> dict[str, object]:
    # The whitespace tokenizer keeps each list entry whole (`don't`, `c'è`, ...); no stemmer, so
    # the stopword test alone decides.
    return {"stopwords": language, "stemmer": {"type": "none"}, "tokenizer": "whitespace"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_is_dropped_by_both(language: str) -> None:
    listed = read_stopwords(language)
    assert listed, language
    for name in (language, STOPWORD_LANGUAGES[language]):
        enc = bm25x.Bm25(**_options(name))
        ref = oracle(_options(name))
        for word in listed:
            if any(c.isspace() for c in word):
                # A multi-word entry ("des de", "كم من") can never equal one token: both keep it.
                assert_same(enc.encode(word), ref.embed_document(word), (language, word))
                continue
            assert len(ref.embed_document(word).indices) == 0, (language, word)
            assert len(enc.encode(word).indices) == 0, (language, word)
            assert len(enc.encode_query(word).indices) == 0, (language, word)
            # Upper case is dropped too when lowercasing gives the entry back (not for "altı",
            # whose upper case "ALTI" lowercases to "alti", nor for accented Greek).
            upper = word.upper()
            assert_same(enc.encode(upper), ref.embed_document(upper), (language, upper))
            if upper.lower() == word:
                assert len(enc.encode(upper).indices) == 0, (language, upper)


@pytest.mark.parametrize("language", LANGUAGES)
def test_words_are_dropped_with_the_word_tokenizer_too(language: str) -> None:
    """With the default tokenizer, a stopword made of one word-run is dropped in running text."""
    options = {"language": language, "stemmer": {"type": "none"}}
    enc, ref = bm25x.Bm25(**options), oracle(options)
    single = [w for w in read_stopwords(language) if w.isalnum()]
    text = " ".join(single)
    assert len(ref.embed_document(text).indices) == 0
    assert len(enc.encode(text).indices) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_other_words_survive(language: str) -> None:
    listed = set(read_stopwords(language))
    candidates = [
        "zzqxv",
        "cookies",
        "Москвичи",
        "λόγος",
        "كتاب",
        *(w for ws in WORDS.values() for w in ws),
    ]
    survivors = [
        w for w in candidates if w.lower() not in listed and not any(c.isspace() for c in w)
    ]
    enc = bm25x.Bm25(**_options(language))
    ref = oracle(_options(language))
    for word in survivors:
        assert len(ref.embed_document(word).indices) == 1, (language, word)
        assert enc.encode(word).indices.tolist() == list(ref.embed_document(word).indices)


def test_an_explicit_list_replaces_the_language_default() -> None:
    enc = bm25x.Bm25(language="english", stopwords={"custom": ["hello"]})
    assert len(enc.encode("the").indices) == 1
    assert len(enc.encode("hello").indices) == 0


@require_dir(SHARED, "../shared (server stopword extracts)")
@pytest.mark.parametrize("language", LANGUAGES)
def test_lists_equal_the_server_sources(language: str) -> None:
    server = Path(SHARED, f"{language}.txt").read_text(encoding="utf-8").splitlines()
    assert set(read_stopwords(language)) == {w for w in server if w}
    # Whatever the server lists, bm25x drops (checks the compiled copy, not only the file).
    enc = bm25x.Bm25(**_options(language))
    kept = [w for w in server if w and len(enc.encode(w).indices)]
    assert all(any(c.isspace() for c in w) for w in kept), kept
