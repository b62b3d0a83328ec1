"""What a backfill tells: the ``--report`` file (one JSON line per point that got no vector)
and the run's :class:`BackfillReport` with its one-paragraph summary."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bm25x.app.backfill.fields import Problem
from bm25x.app.backfill.target import PointId

__all__ = ["BackfillReport", "ReportFile", "VerifyResult"]

SHOWN_PROBLEMS = 5
"""Points without a vector named in the summary (all of them are in the report file)."""


class ReportFile:
    """The report file: JSON lines ``{"id": ..., "problem": ..., "found": ...}``. A new run
    starts it empty; a resumed run cuts it back to ``keep`` bytes (what its checkpoint
    covers), so every point is listed once however often the run was interrupted."""

    def __init__(self, path: str | os.PathLike[str] | None, keep: int = 0) -> None:
        self.path = Path(path) if path is not None else None
        self._file: IO[bytes] | None = None
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "ab+")  # held open for the run; close() closes it
        size = f.seek(0, os.SEEK_END)
        f.truncate(min(keep, size))
        f.seek(0, os.SEEK_END)
        self._file = f

    def add(self, problems: list[Problem]) -> None:
        if self._file is not None and problems:
            lines = (json.dumps(p.as_dict(), ensure_ascii=False) + "\n" for p in problems)
            self._file.write("".join(lines).encode("utf-8"))

    def tell(self) -> int:
        """The file's length once written out (0 without a file)."""
        if self._file is None:
            return 0
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass(frozen=True)
class VerifyResult:
    """``verify``: how many random points were checked, and those whose stored vector differs
    from a fresh encoding of their text (or whose text is gone)."""

    checked: int
    mismatched: list[PointId] = field(default_factory=list)


@dataclass
class BackfillReport:
    """What a backfill did. Counts are for this run; ``totals`` add up every run of the same
    backfill (a resumed one continues the counts of the runs before)."""

    where: str
    vector: str
    model: str
    created: bool = False
    """The vector was added to the collection by this run."""
    resumed: bool = False
    already_done: bool = False
    """The same backfill had finished before: nothing was read or written."""
    complete: bool = False
    read: int = 0
    written: int = 0
    skipped: int = 0
    """Points that already had the vector (``only_missing``), not read."""
    missing: int = 0
    empty: int = 0
    not_text: int = 0
    no_terms: int = 0
    """Points written with a vector without any term (their text has no word the model
    keeps, e.g. only stopwords), as a Qdrant server would store them."""
    seconds: float = 0.0
    totals: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """The first points without a vector (all of them are in the report file)."""
    report_file: str | None = None
    verify: VerifyResult | None = None

    @property
    def without_vector(self) -> int:
        """Points read whose field is missing, empty or not a string."""
        return self.missing + self.empty + self.not_text

    @property
    def rate(self) -> float:
        """Points read per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k not in ("problems", "verify")}
        out["problems"] = [p.as_dict() for p in self.problems]
        out["rate"] = self.rate
        if self.verify is not None:
            out["verify"] = {"checked": self.verify.checked, "mismatched": self.verify.mismatched}
        return out

    def summary(self) -> str:
        """The run in a few lines, for the end of ``bm25x backfill``."""
        if self.already_done:
            done = (
                f"vector {self.vector!r} of {self.where} was already filled from this field "
                "with this model (nothing to do; --restart fills it again, --only-missing "
                "fills points added since)"
            )
            return "\n".join([done, *self._verified()])
        how = "resumed, " if self.resumed else ""
        added = f"added vector {self.vector!r}; " if self.created else ""
        lines = [
            f"{added}{how}{self.read:,} points read, {self.written:,} written, "
            f"{self.skipped:,} skipped (had the vector), {self.without_vector:,} without a "
            f"usable field ({self.missing:,} missing, {self.empty:,} empty, {self.not_text:,} "
            f"not a string); {self.seconds:.2f} s, {self.rate:,.0f} points/s"
        ]
        if self.no_terms:
            lines.append(f"{self.no_terms:,} written vectors have no term (e.g. only stopwords)")
        if self.problems:
            shown = ", ".join(f"{p.id} ({p.problem})" for p in self.problems[:SHOWN_PROBLEMS])
            more = self.without_vector - min(len(self.problems), SHOWN_PROBLEMS)
            where = (
                f"; all in {self.report_file}" if self.report_file else "; --report FILE lists all"
            )
            lines.append(
                f"points without a vector: {shown}"
                + (f" and {more:,} more" if more > 0 else "")
                + where
            )
        return "\n".join([*lines, *self._verified()])

    def _verified(self) -> list[str]:
        if self.verify is None:
            return []
        bad = len(self.verify.mismatched)
        outcome = "all equal a fresh encoding" if not bad else f"{bad:,} differ"
        return [f"verified {self.verify.checked:,} random points: {outcome}"]
