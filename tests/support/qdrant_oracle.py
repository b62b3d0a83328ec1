"""The server-flavour oracle: Qdrant's own BM25 (qdrant-edge-py), driven by bm25x's options.

`oracle(options)` turns a bm25x options dict (the JSON form of Qdrant's `Bm25Config`) into a
`qdrant_edge.Bm25`. Edge rejects `language` values the server accepts (`"tamil"`, `"armenian"`,
their aliases, and the deprecated `"none"`); the server resolves those to "that stemmer, no
stopwords" and "neither", so they are emulated here with explicit stemmer/stopwords settings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qdrant_edge import (
    Bm25,
    Bm25Config,
    DisabledStemmer,
    Language,
    SnowballLanguage,
    SnowballParams,
    StopwordsSet,
    TokenizerType,
)

from support.strategies import STEMMER_LANGUAGES, STOPWORD_LANGUAGES

_TOKENIZERS = {
    "word": TokenizerType.Word,
    "whitespace": TokenizerType.Whitespace,
    "prefix": TokenizerType.Prefix,
    "multilingual": TokenizerType.Multilingual,
    "code": TokenizerType.Code,
}


def _resolve(table: dict[str, str], name: str) -> str | None:
    if name in table:
        return name
    for canonical, alias in table.items():
        if alias == name:
            return canonical
    return None


def stopword_language(name: str) -> Language:
    canonical = _resolve(STOPWORD_LANGUAGES, name)
    assert canonical is not None, name
    return getattr(Language, canonical.title())


def snowball_language(name: str) -> SnowballLanguage:
    canonical = _resolve(STEMMER_LANGUAGES, name)
    assert canonical is not None, name
    return getattr(SnowballLanguage, canonical.title())


def _stopwords(value: Any) -> Any:
    if isinstance(value, str):
        return stopword_language(value)
    value = value or {}
    return StopwordsSet(
        languages={stopword_language(x) for x in value.get("languages") or []},
        custom=set(value.get("custom") or []),
    )


def _stemmer(value: dict[str, Any]) -> Any:
    if value["type"] == "none":
        return DisabledStemmer()
    return SnowballParams(language=snowball_language(value["language"]))


def config(options: dict[str, Any]) -> Bm25Config:
    """The qdrant-edge `Bm25Config` equivalent to bm25x `options` on a Qdrant server."""
    kw: dict[str, Any] = {}
    for key in ("k", "b", "avg_len"):
        if options.get(key) is not None:
            kw[key] = float(options[key])
    for key in ("lowercase", "ascii_folding", "min_token_len", "max_token_len"):
        if options.get(key) is not None:
            kw[key] = options[key]
    if options.get("tokenizer") is not None:
        kw["tokenizer"] = _TOKENIZERS[options["tokenizer"]]
    stopwords = options.get("stopwords")
    stemmer = options.get("stemmer")
    if stopwords is not None:
        kw["stopwords"] = _stopwords(stopwords)
    if stemmer is not None:
        kw["stemmer"] = _stemmer(stemmer)
    language = options.get("language")
    if language is not None:
        if _resolve(STOPWORD_LANGUAGES, language) is not None:
            kw["language"] = language
        else:
            # Server-only languages: resolve them here as the server does.
            stem = _resolve(STEMMER_LANGUAGES, language)
            assert stem is not None or language == "none", language
            kw.setdefault("stopwords", StopwordsSet(languages=set(), custom=set()))
            if stemmer is None:
                kw["stemmer"] = (
                    SnowballParams(language=snowball_language(stem))
                    if stem is not None
                    else DisabledStemmer()
                )
    return Bm25Config(**kw)


def oracle(options: dict[str, Any]) -> Bm25:
    return Bm25(config(options))


def as_arrays(vector: Any) -> tuple[np.ndarray, np.ndarray]:
    """Indices (uint32) and values (float32) of an Edge `SparseVector`."""
    indices = np.asarray(vector.indices, dtype=np.uint32)
    values = np.asarray(vector.values, dtype=np.float32)
    return indices, values


def same(got: Any, want: Any) -> bool:
    """`got` (bm25x SparseVector) equals `want` (Edge SparseVector): same indices, and values
    equal bit for bit."""
    indices, values = as_arrays(want)
    return (
        got.indices.dtype == np.uint32
        and got.values.dtype == np.float32
        and got.indices.tolist() == indices.tolist()
        and got.values.view(np.uint32).tolist() == values.view(np.uint32).tolist()
    )


def assert_same(got: Any, want: Any, context: object = "") -> None:
    """Assert :func:`same`, showing `context` and both index lists on failure."""
    assert same(got, want), (context, got.indices.tolist(), list(want.indices))
