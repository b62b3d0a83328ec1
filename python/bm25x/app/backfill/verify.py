"""``verify``: re-read random points after a run and check that each stored vector equals a
fresh encoding of the point's text: bit for bit for sparse vectors (indices, and values as
float32), and for dense ones to float32 rounding after Cosine normalisation (Qdrant stores
Cosine vectors normalised)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bm25x.app.backfill.fields import FieldPath
from bm25x.app.backfill.model import VectorModel
from bm25x.app.backfill.report import VerifyResult
from bm25x.app.backfill.target import PointId, Target

__all__ = ["same_vector", "verify"]


def _sorted_sparse(indices: Any, values: Any) -> tuple[bytes, bytes]:
    ind = np.asarray(indices, dtype=np.uint32)
    val = np.asarray(values, dtype=np.float32)
    order = np.argsort(ind, kind="stable")
    return ind[order].tobytes(), val[order].tobytes()


def same_vector(stored: Any, fresh: Any, distance: str = "Cosine") -> bool:
    """Whether a stored vector (``(indices, values)`` or a list of floats) is ``fresh``."""
    if stored is None:
        return False
    if isinstance(stored, tuple):
        if not hasattr(fresh, "indices"):
            return False
        return _sorted_sparse(*stored) == _sorted_sparse(fresh.indices, fresh.values)
    a = np.asarray(stored, dtype=np.float32)
    b = np.asarray(fresh, dtype=np.float32)
    if a.shape != b.shape:
        return False
    if distance == "Cosine":
        norm = np.linalg.norm(b)
        b = b / norm if norm > 0 else b
    return bool(np.allclose(a, b, rtol=1e-5, atol=1e-6))


def verify(
    target: Target,
    model: VectorModel,
    name: str,
    field: FieldPath,
    flt: Mapping[str, Any] | None,
    n: int,
) -> VerifyResult:
    """Check up to ``n`` random points of the vector ``name``."""
    points = target.sample(n, name, field.path, flt)
    ids: list[PointId] = []
    texts: list[str] = []
    stored: list[Any] = []
    mismatched: list[PointId] = []
    for pid, payload, vector in points:
        text = field.text(pid, payload)
        if not isinstance(text, str):
            mismatched.append(pid)  # holds a vector, but no text to have made it from
            continue
        ids.append(pid)
        texts.append(text)
        stored.append(vector)
    if texts:
        fresh = model.encode(texts)
        rows: list[Any] = list(fresh)
        distance = model.spec.distance
        mismatched += [p for p, s, f in zip(ids, stored, rows) if not same_vector(s, f, distance)]
    return VerifyResult(len(points), mismatched)
