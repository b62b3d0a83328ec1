"""The fastembed-flavour oracle: fastembed's own ``Bm25`` (``Qdrant/bm25``), run offline.

fastembed reads ``config.json`` and ``<language>.txt`` stopword files from a model directory;
`build_model_dir` writes one from bm25x's own lists (for fastembed's 17 languages they equal the
files fastembed downloads, as sets; `test_exactness_fastembed` checks that when the downloaded
copies are at hand). `oracle(model_dir, options)` builds a ``Bm25`` from bm25x fastembed-flavour
options.

``Bm25.__init__`` scans every code point for punctuation (about 0.35 s per instance);
`oracle` caches that pure function inside fastembed's module so tests can afford one oracle per
example.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any

import numpy as np
from fastembed.sparse import bm25 as fastembed_bm25

from support.strategies import STOPWORD_DIR

# fastembed 0.9.1's languages (its stemmer's); all but tamil ship a stopword file.
LANGUAGES = [
    "arabic",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
]
STOPWORD_FILE_LANGUAGES = [lang for lang in LANGUAGES if lang != "tamil"]


def build_model_dir(path: Path) -> Path:
    """Write a fastembed ``Qdrant/bm25`` model directory into `path` and return it."""
    (path / "config.json").write_text("{}", encoding="utf-8")
    for lang in STOPWORD_FILE_LANGUAGES:
        (path / f"{lang}.txt").write_bytes((STOPWORD_DIR / f"{lang}.txt").read_bytes())
    return path


def _cache_punctuation() -> None:
    current = fastembed_bm25.get_all_punctuation
    if not hasattr(current, "cache_info"):
        fastembed_bm25.get_all_punctuation = functools.lru_cache(maxsize=None)(current)  # type: ignore[assignment]


def oracle(model_dir: Path, options: dict[str, Any]) -> Any:
    """fastembed's ``Bm25`` built with bm25x fastembed-flavour `options` (``flavor`` is
    dropped; a list of stopwords becomes the set fastembed takes)."""
    _cache_punctuation()
    kw = dict(options)
    kw.pop("flavor", None)
    if kw.get("stopwords") is not None and not isinstance(kw["stopwords"], (str, dict)):
        kw["stopwords"] = set(kw["stopwords"])
    return fastembed_bm25.Bm25("Qdrant/bm25", specific_model_path=str(model_dir), **kw)


def f32_bits(values: Any) -> list[int]:
    """Values (fastembed's float64) rounded to float32, as bit patterns."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).view(np.uint32).tolist()


def as_dict(vector: Any) -> dict[int, int]:
    """index -> float32 bit pattern, for a bm25x SparseVector or a fastembed SparseEmbedding."""
    return dict(zip(np.asarray(vector.indices).tolist(), f32_bits(vector.values)))


def assert_document(got: Any, want: Any, context: object = "") -> None:
    """bm25x vector `got` equals fastembed's SparseEmbedding `want`: the same index set, and
    each float32 value equal to fastembed's float64 value rounded to float32."""
    assert got.indices.dtype == np.uint32 and got.values.dtype == np.float32
    indices = got.indices.tolist()
    assert all(a < b for a, b in itertools.pairwise(indices)), context
    want_indices = want.indices.tolist()
    assert len(set(want_indices)) == len(want_indices), context
    assert as_dict(got) == as_dict(want), context


def assert_query(got: Any, want: Any, context: object = "") -> None:
    """The same distinct ids (fastembed's come in Python set order), every value 1."""
    indices = got.indices.tolist()
    assert all(a < b for a, b in itertools.pairwise(indices)), context
    assert set(indices) == set(want.indices.tolist()), context
    assert got.values.tolist() == [1.0] * len(indices), context
    assert want.values.tolist() == [1] * len(indices), context
