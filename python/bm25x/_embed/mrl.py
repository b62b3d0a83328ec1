"""The ``mrl`` option of :func:`bm25x.embed`: checked when the plan is made (step 1), applied
to each dense vector when the outcome is built (step 5)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bm25x.errors import BadInputError, DimensionMismatchError
from bm25x.providers._base import Vector

__all__ = ["check_mrl", "cut_mrl"]


def check_mrl(mrl: Any, group_provider: str, model: str, i: int) -> None:
    """Refuse a bad ``mrl`` before anything is sent."""
    if isinstance(mrl, bool) or not isinstance(mrl, int) or mrl < 1:
        raise BadInputError(
            f"mrl must be a positive integer, got {mrl!r}",
            provider=group_provider,
            model=model,
            items=[i],
        )


def cut_mrl(vector: Vector, mrl: Any, group_provider: str, model: str, i: int) -> Vector:
    check_mrl(mrl, group_provider, model, i)
    if not isinstance(vector, np.ndarray):
        raise BadInputError(
            "mrl applies to dense vectors only", provider=group_provider, model=model, items=[i]
        )
    if mrl > vector.shape[0]:
        raise DimensionMismatchError(
            f"mrl={mrl} is larger than the model's {vector.shape[0]} dimensions",
            provider=group_provider,
            model=model,
            items=[i],
        )
    return np.array(vector[:mrl], dtype=np.float32)
