"""What the framework adapters share: importing the framework with a clear error, and the
encoder with :class:`bm25x.Bm25`'s options."""

from __future__ import annotations

import importlib
import itertools
from types import ModuleType
from typing import Any

from bm25x import Bm25, SparseBatch

__all__ = ["encode_pairs", "make_encoder", "require"]


def require(module: str, extra: str, framework: str) -> ModuleType:
    """Import ``module`` or raise an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"bm25x.integrations.{extra.replace('-', '_')} needs {framework}: "
            f"pip install 'bm25x-sparse[{extra}]'"
        ) from exc


def encode_pairs(
    enc: Bm25, texts: list[str], query: bool
) -> tuple[list[list[int]], list[list[float]]]:
    """``(indices per text, values per text)`` as Python lists, in input order."""
    batch: SparseBatch = enc.encode_query(texts) if query else enc.encode(texts)
    bounds = batch.indptr.tolist()
    ids = batch.indices.tolist()
    vals = batch.values.tolist()
    pairs = [(ids[a:b], vals[a:b]) for a, b in itertools.pairwise(bounds)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def make_encoder(options: dict[str, Any], threads: int | None) -> Bm25:
    """The encoder for an adapter's options (those of :class:`bm25x.Bm25`)."""
    return Bm25(threads=threads, **options)
