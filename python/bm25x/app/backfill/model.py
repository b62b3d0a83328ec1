"""What fills the vector: a model and its options exactly as :func:`bm25x.embed` takes them,
the kind of Qdrant vector it needs, and the record saved with the collection so that queries
for that vector are encoded the same way.

bm25 models (``qdrant/bm25``, the server's flavour; ``Qdrant/bm25``, the fastembed flavour,
fastembed's Python ``Bm25``; an explicit ``flavor`` option wins) run bm25x's encoder directly,
in whole pages: the vectors :func:`bm25x.embed` gives, without its per-item planning. Every
other model goes through :func:`bm25x.embed` (the local-models provider, providers with keys
from the environment or ``headers``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bm25x import Bm25, SparseBatch, SparseVector, __version__
from bm25x.app.ingest import plain_options
from bm25x.providers.bm25 import bm25_flavor

__all__ = ["RECORD_FORMAT", "Encoded", "VectorModel", "VectorSpec", "query_encoder"]

RECORD_FORMAT = 1
Encoded = SparseBatch | np.ndarray
"""A page's vectors: a sparse batch, or a float32 matrix (one row per point)."""
_PROBE = "bm25x backfill: the size of this model's vectors"


@dataclass(frozen=True)
class VectorSpec:
    """The Qdrant vector a model's vectors go into."""

    kind: str
    """``"sparse"`` or ``"dense"``."""
    idf: bool = False
    """Sparse: whether scoring needs Qdrant's IDF modifier (bm25, bm42, miniCOIL)."""
    size: int | None = None
    """Dense: the vector size."""
    distance: str = "Cosine"

    def describe(self) -> str:
        if self.kind == "sparse":
            return "a sparse vector" + (" with the IDF modifier" if self.idf else "")
        return f"a dense vector of size {self.size} ({self.distance})"


def _sparse_rows(vectors: Sequence[SparseVector]) -> SparseBatch:
    lengths = [len(v.indices) for v in vectors]
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate([v.indices for v in vectors]) if vectors else np.zeros(0, np.uint32)
    values = np.concatenate([v.values for v in vectors]) if vectors else np.zeros(0, np.float32)
    return SparseBatch(indptr, indices.astype(np.uint32), values.astype(np.float32))


def _fastembed_needs_idf(model: str) -> bool:
    """Whether fastembed describes ``model`` as a sparse model scored with IDF (bm42,
    miniCOIL); False when fastembed is absent or does not know it."""
    try:
        from fastembed import SparseTextEmbedding
    except ImportError:
        return False
    for entry in SparseTextEmbedding.list_supported_models():
        if str(entry.get("model", "")).lower() == model.lower():
            return bool(entry.get("requires_idf"))
    return False


@dataclass
class VectorModel:
    """A model with its options (as :func:`bm25x.embed` takes them); ``headers`` carry
    provider API keys (never recorded), ``threads`` how bm25 runs (not part of the vectors)."""

    model: str
    options: dict[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] | None = field(default=None, repr=False)
    threads: int | None = None
    flavor: str | None = field(init=False, default=None)
    _bm25: Bm25 | None = field(init=False, default=None, repr=False)
    _spec: VectorSpec | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise ValueError("the model must be a name, e.g. 'qdrant/bm25'")
        options = plain_options(self.options or {})
        if "threads" in options:
            threads = options.pop("threads")
            if self.threads not in (None, threads):
                raise ValueError(f"threads given twice: threads={self.threads} and {threads}")
            self.threads = threads
        flavor = bm25_flavor(self.model)
        if flavor is not None:
            flavor = str(options.pop("flavor", flavor))
            # Bad options fail here, before the collection is touched.
            self._bm25 = Bm25(threads=self.threads, flavor=flavor, **options)
            self._spec = VectorSpec("sparse", idf=True)
        self.flavor = flavor
        self.options = options

    @property
    def spec(self) -> VectorSpec:
        """The vector this model needs (other models: found by embedding one probe text)."""
        if self._spec is None:
            probe = self.encode([_PROBE])
            if isinstance(probe, SparseBatch):
                self._spec = VectorSpec("sparse", idf=_fastembed_needs_idf(self.model))
            else:
                self._spec = VectorSpec("dense", size=int(probe.shape[1]))
        return self._spec

    def encode(self, texts: list[str]) -> Encoded:
        """The documents' vectors (never query-side: a backfill fills stored points)."""
        if self._bm25 is not None:
            return self._bm25.encode(texts)
        import bm25x

        results = bm25x.embed(texts, model=self.model, options=self.options, headers=self.headers)
        if results and isinstance(results[0], SparseVector):
            return _sparse_rows(results)
        if results and not isinstance(results[0], np.ndarray):
            raise ValueError(
                f"model {self.model!r} gives multivectors (late interaction); backfill fills "
                "dense and sparse vectors"
            )
        rows = [np.asarray(v, dtype=np.float32) for v in results]
        return np.stack(rows) if rows else np.zeros((0, 0), np.float32)

    def record(self, from_field: str) -> dict[str, Any]:
        """What the collection records for the vector: enough to encode queries alike."""
        spec = self.spec
        return {
            "format": RECORD_FORMAT,
            "bm25x_version": __version__,
            "model": self.model,
            "flavor": self.flavor,
            "options": dict(self.options),
            "kind": spec.kind,
            "idf": spec.idf,
            "size": spec.size,
            "from_field": from_field,
        }


def query_encoder(
    record: Mapping[str, Any], headers: Mapping[str, str] | None = None, threads: int | None = None
) -> Any:
    """``f(queries) -> vectors`` encoding queries as the recorded vector expects: bm25x's
    query side for bm25 (each term once), the model's query side otherwise."""
    flavor = record.get("flavor")
    options = dict(record.get("options") or {})
    if flavor:
        enc = Bm25(threads=threads, flavor=flavor, **options)
        return lambda queries: list(enc.encode_query(list(queries)))

    def embed(queries: Sequence[str]) -> list[Any]:
        import bm25x

        return list(
            bm25x.embed(
                list(queries), model=record["model"], options=options, query=True, headers=headers
            )
        )

    return embed
