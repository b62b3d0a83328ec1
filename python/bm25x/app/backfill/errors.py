"""The errors of ``bm25x backfill`` (:mod:`bm25x.app.backfill`), defined in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bm25x.app.errors import StoreError

if TYPE_CHECKING:
    from bm25x.app.backfill.report import BackfillReport

__all__ = ["BackfillError", "CannotAddVector", "FieldError", "VerifyError"]


class BackfillError(StoreError):
    """The collection cannot be backfilled as asked (no such collection, a vector of another
    kind, an unfinished backfill with other arguments); the message says what to do."""


class CannotAddVector(BackfillError):
    """The vector does not exist and this Qdrant cannot add a named vector to an existing
    collection (servers before 1.18.0); ``--to NEW`` copies the collection instead."""


class FieldError(ValueError):
    """With ``strict``: a point's field is missing, empty or not a string. The points before
    its page are written; the run resumes there once the payload is fixed."""

    def __init__(self, message: str, problem: Any) -> None:
        super().__init__(message)
        self.problem = problem


class VerifyError(BackfillError):
    """``verify``: stored vectors differ from a fresh encoding of their points' text;
    ``report`` is the run's report, whose ``verify`` names them."""

    def __init__(self, message: str, report: BackfillReport) -> None:
        super().__init__(message)
        self.report = report
