"""The default ``qdrant/bm25`` pipeline in plain Python, for reading and for benchmarks.

It has the same API as :class:`bm25x.Bm25` for the ``word`` tokenizer and its options ``k``,
``b``, ``avg_len``, ``language`` and ``lowercase``, and is built on ``mmh3`` and
``snowballstemmer`` (``pip install bm25x-sparse[baseline]``). It is meant to be easy to follow, not
fast, and it is not bit-exact everywhere; where it differs from Qdrant and why:

* Word characters: Python's ``\\w`` without ``_`` (Unicode letters and numbers), while Qdrant
  uses Rust's ``char::is_alphanumeric``, which also counts the combining marks that Unicode
  calls Other_Alphabetic (Indic vowel signs, Arabic harakat, Hebrew points, ...) and circled
  letters. Text in those scripts splits differently here.
* Unicode version: Python's own (3.11: Unicode 14) rather than the Rust compiler's.
* Stemming: ``snowballstemmer`` 2.2.0, whose English algorithm agrees with rust-stemmers 1.2
  on all 38,126 words of the benchmark corpora (3.x differs on 0.2% of them); other languages
  were not measured word by word.

>>> from bm25x.baseline import Bm25
>>> Bm25().encode("Recipe for baking chocolate chip cookies").indices.tolist()
[112174620, 177304315, 662344706, 771857363, 1617337648]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from bm25x._native import stopwords as _stopwords
from bm25x._sparse import SparseBatch, SparseVector

__all__ = ["Bm25"]

try:
    import mmh3
    import snowballstemmer
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "bm25x.baseline needs mmh3 and snowballstemmer: pip install 'bm25x-sparse[baseline]'"
    ) from exc

# Letters and numbers: `\w` minus the underscore.
_WORD = re.compile(r"[^\W_]+")

# Qdrant's language names and ISO aliases -> (stopword list name, snowball algorithm name).
_STEMMERS = {
    "arabic": "arabic", "ar": "arabic", "armenian": "armenian", "hy": "armenian",
    "danish": "danish", "da": "danish", "dutch": "dutch", "nl": "dutch",
    "english": "english", "en": "english", "finnish": "finnish", "fi": "finnish",
    "french": "french", "fr": "french", "german": "german", "de": "german",
    "greek": "greek", "el": "greek", "hungarian": "hungarian", "hu": "hungarian",
    "italian": "italian", "it": "italian", "norwegian": "norwegian", "no": "norwegian",
    "portuguese": "portuguese", "pt": "portuguese", "romanian": "romanian", "ro": "romanian",
    "russian": "russian", "ru": "russian", "spanish": "spanish", "es": "spanish",
    "swedish": "swedish", "sv": "swedish", "tamil": "tamil", "ta": "tamil",
    "turkish": "turkish", "tr": "turkish",
}  # fmt: skip


def _token_id(term: str) -> int:
    # MurmurHash3 x86_32 of the UTF-8 bytes, seed 0, as a signed int; abs() folds -2**31 to 2**31.
    return abs(mmh3.hash(term))


class Bm25:
    """Pure-Python ``qdrant/bm25`` (word tokenizer). See the module docstring for its limits."""

    def __init__(
        self,
        *,
        k: float = 1.2,
        b: float = 0.75,
        avg_len: float = 256.0,
        language: str = "english",
        lowercase: bool = True,
    ) -> None:
        self.k, self.b, self.avg_len, self.lowercase = float(k), float(b), float(avg_len), lowercase
        try:
            words = _stopwords(language)
        except ValueError:
            words = []
        self.stopwords = {w.lower() for w in words} if lowercase else set(words)
        algorithm = _STEMMERS.get(language)
        self.stemmer = snowballstemmer.stemmer(algorithm) if algorithm else None

    def terms(self, text: str) -> list[str]:
        """Split, lowercase, drop stopwords, stem."""
        out = []
        for word in _WORD.findall(text):
            if self.lowercase:
                word = word.lower()
            if word in self.stopwords:
                continue
            out.append(self.stemmer.stemWord(word) if self.stemmer else word)
        return out

    def _document(self, text: str) -> SparseVector:
        terms = self.terms(text)
        doc_len = len(terms)
        weights: dict[int, float] = {}
        for term, n in Counter(terms).items():
            # Qdrant rounds an f64 computed with a fused multiply-add; plain floats agree after
            # rounding to float32.
            norm = 1 - self.b + self.b * doc_len / self.avg_len
            weights[_token_id(term)] = n * (self.k + 1) / (n + self.k * norm)
        ids = sorted(weights)
        return SparseVector(ids, [weights[i] for i in ids])

    def _query(self, text: str) -> SparseVector:
        ids = sorted({_token_id(t) for t in self.terms(text)})
        return SparseVector(ids, np.ones(len(ids), dtype=np.float32))

    def encode(self, texts: str | Iterable[str], **_: Any) -> SparseVector | SparseBatch:
        """Documents: one str gives a SparseVector, an iterable of str a SparseBatch."""
        return self._encode(texts, self._document)

    def encode_query(self, texts: str | Iterable[str], **_: Any) -> SparseVector | SparseBatch:
        """Queries: distinct ids with weight 1."""
        return self._encode(texts, self._query)

    @staticmethod
    def _encode(texts: Any, one: Any) -> SparseVector | SparseBatch:
        if isinstance(texts, str):
            return one(texts)  # type: ignore[no-any-return]
        vectors = [one(t) for t in texts]
        indptr = np.cumsum([0] + [len(v) for v in vectors])
        if not vectors:
            return SparseBatch([0], [], [])
        return SparseBatch(
            indptr,
            np.concatenate([v.indices for v in vectors]),
            np.concatenate([v.values for v in vectors]),
        )
