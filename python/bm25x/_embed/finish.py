"""Step 5 of :func:`bm25x.embed`: ``mrl`` cuts, then the outcome: the results, the one error
when everything failed for one reason, or :class:`bm25x.PartialInferenceError`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bm25x.errors import (
    BadInputError,
    DimensionMismatchError,
    InferenceError,
    PartialInferenceError,
)
from bm25x.providers._base import Vector

if TYPE_CHECKING:
    from bm25x._embed.plan import Plan

__all__ = ["check_mrl", "cut_mrl", "finish"]


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


def finish(plan: Plan, errors: list[InferenceError]) -> Any:
    """Apply ``mrl`` and turn the run's outcome into what embed returns or raises."""
    results = plan.results
    failed = {i for e in errors for i in e.items}
    for i, (n, provider_name, model_name) in plan.mrls.items():
        if i in failed or results[i] is None:
            continue
        try:
            results[i] = cut_mrl(results[i], n, provider_name, model_name, i)
        except InferenceError as exc:
            errors.append(exc)
            failed.add(i)
    if errors:
        if failed >= set(plan.pending) and len(errors) == 1:
            raise errors[0]
        for i in failed:
            results[i] = None
        raise PartialInferenceError(errors, results, plan.n)
    return results[0] if plan.single else results
