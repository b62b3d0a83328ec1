"""Step 5 of :func:`bm25x.embed`: ``mrl`` cuts, then the outcome: the results, the one error
when everything failed for one reason, or :class:`bm25x.PartialInferenceError`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bm25x._embed.mrl import check_mrl, cut_mrl
from bm25x.errors import (
    InferenceError,
    PartialInferenceError,
)

if TYPE_CHECKING:
    from bm25x._embed.plan import Plan

__all__ = ["check_mrl", "cut_mrl", "finish"]


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
