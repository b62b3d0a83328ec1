"""The fastembed drop-in: ``SparseTextEmbedding`` for fastembed's BM25 models, computed by
bm25x; swap one import, keep the script.

    # from fastembed import SparseTextEmbedding, SparseEmbedding
    from bm25x.integrations.fastembed import SparseTextEmbedding, SparseEmbedding

    model = SparseTextEmbedding("Qdrant/bm25")
    docs = list(model.embed(["Baking bread", "Sourdough starter"]))
    query = next(model.query_embed("bread"))

``model_name="Qdrant/bm25"`` (this exact spelling) gives fastembed 0.9.1's vectors exactly: the
same indices in the same order (first occurrence in the text; a query's in the order of
fastembed's Python set), the same dtypes (int64 indices; float64 document values, int64 query
values) and equal values. ``"qdrant/bm25"`` (any other spelling, or ``"bm25"``) gives the
vectors Qdrant's server computes for ``qdrant/bm25``, with ascending indices, as int64 and
float64 arrays holding the server's float32 values exactly.

Texts fastembed takes and bm25x's encoder cannot are handled as fastembed handles them: a
lone surrogate (``"a\\ud800b"``, left by decoding with ``surrogateescape``) is not valid
Unicode, so the encoder refuses it, but fastembed's first step turns every character that is
neither a word character nor a space into a space, a lone surrogate included; the drop-in
does that to lone surrogates before encoding, so ``"Qdrant/bm25"`` gives fastembed's vector.
(``"qdrant/bm25"`` refuses them, as the server cannot receive them in JSON.) ``batch_size``
follows fastembed too: ``embed`` and ``passage_embed`` refuse one below 1 (ValueError, when
the first vector is asked for), ``query_embed`` ignores it.

Nothing is downloaded: the stopword lists and stemmers are compiled into bm25x. The
parameters that concern model files or ONNX (``cache_dir``, ``specific_model_path``,
``local_files_only``, ``providers``, ``cuda``, ``device_ids``, ``lazy_load``) are accepted and
have no effect; ``parallel`` has none either (bm25x spreads batches over ``threads``).

Not to be confused with the fastembed flavour of the encoder (``Bm25(flavor="fastembed")``,
fastembed's Python ``Bm25``), which this drop-in computes ``"Qdrant/bm25"`` with, nor with the
local-models provider (:mod:`bm25x.providers.local_models`), which runs fastembed's other models
(dense, late interaction, image, other sparse) with the fastembed package itself.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from bm25x import Bm25, OptionError
from bm25x.providers.bm25 import bm25_flavor

__all__ = ["SparseEmbedding", "SparseTextEmbedding"]

FASTEMBED_MODEL = "Qdrant/bm25"
SERVER_MODEL = "qdrant/bm25"


@dataclass
class SparseEmbedding:
    """One sparse vector, shaped as fastembed's ``SparseEmbedding``: ``values`` and ``indices``
    numpy arrays of the same length."""

    values: npt.NDArray[Any]
    indices: npt.NDArray[Any]

    def as_object(self) -> dict[str, npt.NDArray[Any]]:
        """``{"values": ..., "indices": ...}`` (the arrays themselves)."""
        return {"values": self.values, "indices": self.indices}

    def as_dict(self) -> dict[int, float]:
        """``{index: value}`` with Python ints and floats."""
        return {int(i): float(v) for i, v in zip(self.indices.tolist(), self.values.tolist())}

    @classmethod
    def from_dict(cls, data: dict[int, float]) -> SparseEmbedding:
        """Build one from ``{index: value}`` (int64 indices, float64 values, in dict order)."""
        if not data:
            return cls(values=np.array([]), indices=np.array([], dtype=np.int64))
        return cls(
            values=np.array(list(data.values()), dtype=np.float64),
            indices=np.array(list(data.keys()), dtype=np.int64),
        )


def _model_entry(model: str, description: str) -> dict[str, Any]:
    """A ``list_supported_models()`` entry with the keys fastembed's entries have."""
    return {
        "model": model,
        "sources": {"hf": None, "url": None, "_deprecated_tar_struct": False},
        "model_file": "",
        "description": description,
        "license": "apache-2.0",
        "size_in_GB": 0.0,
        "additional_files": [],
        "requires_idf": True,
        "vocab_size": 0,
    }


_SUPPORTED = [
    _model_entry(
        FASTEMBED_MODEL,
        "BM25 exactly as fastembed's Qdrant/bm25 computes it (bm25x, nothing downloaded); "
        "use with modifier=idf",
    ),
    _model_entry(
        SERVER_MODEL,
        "BM25 exactly as Qdrant's server-side qdrant/bm25 computes it (bm25x); "
        "use with modifier=idf",
    ),
]


_DEFAULT_BATCH = 256
_SURROGATE = re.compile(r"[\ud800-\udfff]")
"""A lone surrogate: a Python str can hold one (``surrogateescape``), UTF-8 cannot."""


def _batch_size(batch_size: Any) -> int:
    """fastembed's rule for ``embed``'s batch size: compared with 1 first (so None or a str is
    a TypeError), then used as a count (so any integer, bool or numpy integer; a float is a
    ValueError)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    try:
        return operator.index(batch_size)
    except TypeError:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}") from None


class SparseTextEmbedding:
    """fastembed's ``SparseTextEmbedding`` for the BM25 models, computed by bm25x.

    ``model_name``: ``"Qdrant/bm25"`` (fastembed's vectors) or ``"qdrant/bm25"`` (the server's).
    ``k``, ``b``, ``avg_len``, ``language``, ``token_max_length``, ``disable_stemmer`` and
    ``stopwords`` mean what they mean in fastembed. For ``"qdrant/bm25"`` they are translated to
    the server's options (``disable_stemmer`` turns off stemming and the language's stopwords,
    ``stopwords`` replaces the list; ``token_max_length`` is refused because the server counts
    the stemmed token: use ``max_token_len``) and every other :class:`bm25x.Bm25` option
    (``tokenizer``, ``ascii_folding``, ...) may be passed as a keyword. A custom ``stemmer``
    object cannot run inside bm25x and is refused. ``threads``: threads for batches (default
    all cores). The download and ONNX parameters are accepted and ignored.
    """

    def __init__(
        self,
        model_name: str,
        cache_dir: str | None = None,
        threads: int | None = None,
        providers: Sequence[Any] | None = None,
        cuda: Any = None,
        device_ids: list[int] | None = None,
        lazy_load: bool = False,
        *,
        k: float = 1.2,
        b: float = 0.75,
        avg_len: float = 256.0,
        language: str = "english",
        token_max_length: int | None = None,
        disable_stemmer: bool = False,
        specific_model_path: str | None = None,
        local_files_only: bool = False,
        stemmer: Any = None,
        stopwords: Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(model_name, str):
            raise TypeError(f"model_name must be a str, got {type(model_name).__name__}")
        flavor = bm25_flavor(model_name)
        if flavor is None:
            raise ValueError(
                f"Model {model_name!r} is not supported by bm25x's SparseTextEmbedding: use "
                f"{FASTEMBED_MODEL!r} (fastembed's vectors) or {SERVER_MODEL!r} (Qdrant "
                f"server's); see SparseTextEmbedding.list_supported_models()"
            )
        if stemmer is not None and not isinstance(stemmer, dict):
            raise TypeError(
                "a custom stemmer object cannot run inside bm25x; use language=..., "
                "disable_stemmer=True, or (for 'qdrant/bm25') stemmer={'type': 'none'}"
            )
        if stopwords is not None and isinstance(stopwords, (str, bytes)):
            raise TypeError("stopwords must be a collection of words, not a single str")
        self.model_name = model_name
        self.cache_dir = cache_dir
        self.threads = threads
        self.k, self.b, self.avg_len = k, b, avg_len
        words = None if stopwords is None else sorted({str(w).lower() for w in stopwords})
        bm25_options: dict[str, Any] = {"k": k, "b": b, "avg_len": avg_len, "language": language}
        if flavor == "fastembed":
            if stemmer is not None or options:
                extra = sorted([*options, *(["stemmer"] if stemmer is not None else [])])
                raise OptionError(
                    f"option(s) {', '.join(extra)} are not options of fastembed's Bm25; model "
                    f"{FASTEMBED_MODEL!r} takes k, b, avg_len, language, token_max_length, "
                    f"disable_stemmer, stopwords (use 'qdrant/bm25' for the server's options)"
                )
            bm25_options.update(
                flavor="fastembed",
                token_max_length=40 if token_max_length is None else token_max_length,
                disable_stemmer=disable_stemmer,
            )
            if words is not None:
                bm25_options["stopwords"] = words
        else:
            if token_max_length is not None:
                raise OptionError(
                    "token_max_length is fastembed's (it counts the token before stemming); "
                    "for 'qdrant/bm25' use max_token_len, which counts the stemmed token"
                )
            bm25_options["flavor"] = "qdrant"
            if disable_stemmer:
                bm25_options["stemmer"] = {"type": "none"}
                bm25_options["stopwords"] = {"languages": [], "custom": []}
            if stemmer is not None:
                bm25_options["stemmer"] = stemmer
            if words is not None:
                bm25_options["stopwords"] = {"languages": [], "custom": words}
            bm25_options.update(options)
        self.model: Bm25 = Bm25(threads=threads, **bm25_options)
        self._fastembed_flavour = flavor == "fastembed"

    def __repr__(self) -> str:
        return f"bm25x.integrations.fastembed.SparseTextEmbedding({self.model_name!r})"

    @classmethod
    def list_supported_models(cls) -> list[dict[str, Any]]:
        """The two BM25 models, described with the keys of fastembed's model list."""
        return [{**m, "sources": dict(m["sources"])} for m in _SUPPORTED]

    def embed(
        self,
        documents: str | Iterable[str],
        batch_size: int = 256,
        parallel: int | None = None,
        **kwargs: Any,
    ) -> Iterator[SparseEmbedding]:
        """Encode documents (one ``str`` or an iterable), yielding one
        :class:`SparseEmbedding` per document in order, ``batch_size`` at a time.
        ``parallel`` has no effect (batches use ``threads``)."""
        size = _batch_size(batch_size)
        if isinstance(documents, str):
            documents = [documents]
        for chunk in _chunks(documents, size):
            yield from self._encode(chunk, query=False)

    def passage_embed(self, texts: Iterable[str], **kwargs: Any) -> Iterator[SparseEmbedding]:
        """Encode passages: the same as :meth:`embed`."""
        yield from self.embed(texts, **kwargs)

    def query_embed(self, query: str | Iterable[str], **kwargs: Any) -> Iterator[SparseEmbedding]:
        """Encode queries (one ``str`` or an iterable): each distinct term id once. Like
        fastembed's, it takes ``batch_size`` and any other keyword and ignores them (a
        positive integer ``batch_size`` only sets how many queries are encoded at a time)."""
        size = kwargs.get("batch_size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            size = _DEFAULT_BATCH
        queries = [query] if isinstance(query, str) else query
        for chunk in _chunks(queries, size):
            yield from self._encode(chunk, query=True)

    def token_count(self, texts: str | Iterable[str], **kwargs: Any) -> int:
        """The number of words the texts split into, before stopwords and length filtering
        (fastembed's count for its BM25 model)."""
        items = [texts] if isinstance(texts, str) else list(texts)
        native = self.model._native
        return sum(len(native.explain(self._text(t), False)) for t in items)

    def _text(self, item: Any) -> str:
        """``item`` as the encoder takes it: a str; for fastembed's vectors, with each lone
        surrogate a space, which is what fastembed's first step makes of it."""
        if not isinstance(item, str):
            raise TypeError(f"texts must be str, got {type(item).__name__}")
        if self._fastembed_flavour and not item.isascii():
            return _SURROGATE.sub(" ", item)
        return item

    def _encode(self, texts: list[str], query: bool) -> list[SparseEmbedding]:
        items = [self._text(t) for t in texts]
        if self._fastembed_flavour:
            if query:
                return [self._fastembed_query(t) for t in items]
            return self._fastembed_documents(items)
        batch = (self.model.encode_query if query else self.model.encode)(items)
        return [
            SparseEmbedding(values=v.values.astype(np.float64), indices=v.indices.astype(np.int64))
            for v in batch
        ]

    def _terms(self, text: str) -> list[tuple[str, int]]:
        """Every kept term of ``text`` with its id, in text order."""
        return [pair for row in self.model._native.explain(text, False) for pair in row[3]]

    def _fastembed_documents(self, texts: list[str]) -> list[SparseEmbedding]:
        # fastembed computes each weight in Python floats from the term counts, keyed by term
        # id in the order terms first occur; two terms with one id share the first one's
        # position and keep the later term's weight. The native call does the same in f64,
        # operations in fastembed's order, so the values are equal, not just close.
        indptr, indices, values = self.model._native.encode_first_occurrence(texts)
        bounds = indptr.tolist()
        return [
            SparseEmbedding(values=values[a:b], indices=indices[a:b]) for a, b in pairwise(bounds)
        ]

    def _fastembed_query(self, text: str) -> SparseEmbedding:
        # fastembed lists a query's ids in the iteration order of a Python set built in text
        # order; building the same set here gives the same order.
        ids = np.array(list({term_id for _, term_id in self._terms(text)}), dtype=np.int64)
        return SparseEmbedding(indices=ids, values=np.ones_like(ids))


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
