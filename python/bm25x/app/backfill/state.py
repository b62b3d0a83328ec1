"""What a backfill records in the collection's metadata, as top-level keys (a server merges
top-level keys on update, so runs on other vectors or other parts never overwrite each other):

- ``bm25x_vector:NAME``: how the vector is filled (model, flavour, options, field, kind), for
  ``bm25x search --vector NAME`` and the qdrant-client wrapper to encode queries alike;
- ``bm25x_backfill:NAME:PART``: one run's checkpoint. ``PART`` is a digest of the points it
  covers (filter and id range), so parts of one backfill run in parallel, each resumable on its
  own. The checkpoint holds what was asked (``request``: a later run with other arguments is
  refused while this one is unfinished), the offset to read from next (every point before it
  in id order is written), whether the run finished, its counts, and the length of its report
  file at that offset.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bm25x.app.backfill.target import PointId
from bm25x.internals import record_key

__all__ = ["COUNTS", "Checkpoint", "is_part_of", "part_key", "vector_key"]

CHECKPOINT_FORMAT = 1
COUNTS = ("read", "written", "missing", "empty", "not_text", "no_terms")
"""What a checkpoint counts: points read, vectors written, points whose field is missing,
empty or not a string (none of those get a vector), and written vectors without a term."""


def vector_key(name: str) -> str:
    """The metadata key of the vector's record (read by the library too: it lives there)."""
    return record_key(name)


def part_key(name: str, request: Mapping[str, Any]) -> str:
    """The metadata key of the checkpoint of the points ``request`` covers."""
    scope = json.dumps([request.get("filter"), request.get("id_range")], sort_keys=True)
    return f"bm25x_backfill:{name}:{hashlib.blake2b(scope.encode(), digest_size=6).hexdigest()}"


def is_part_of(key: str, name: str) -> bool:
    """Whether the metadata key ``key`` is the checkpoint of a part of vector ``name``'s
    backfill (vector names may hold colons: the part is what follows the last one)."""
    head, _, _ = key.rpartition(":")
    return head == f"bm25x_backfill:{name}"


@dataclass
class Checkpoint:
    """Where a run stands."""

    request: dict[str, Any]
    offset: PointId | None = None
    """The next page starts here (None: at the start of the range, or after the end when
    ``complete``)."""
    complete: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    report_path: str | None = None
    report_bytes: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "request": self.request,
            "offset": self.offset,
            "complete": self.complete,
            "counts": dict(self.counts),
            "report_path": self.report_path,
            "report_bytes": self.report_bytes,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint | None:
        """A checkpoint read back; None for anything that is not one (ignored)."""
        if not isinstance(data, Mapping) or data.get("format") != CHECKPOINT_FORMAT:
            return None
        counts = dict.fromkeys(COUNTS, 0)
        for k, v in (data.get("counts") or {}).items():
            if k in counts and isinstance(v, int):
                counts[k] = v
        offset = data.get("offset")
        return cls(
            request=dict(data.get("request") or {}),
            offset=offset if isinstance(offset, (int, str)) else None,
            complete=bool(data.get("complete")),
            counts=counts,
            report_path=data.get("report_path")
            if isinstance(data.get("report_path"), str)
            else None,
            report_bytes=int(data.get("report_bytes") or 0),
            seconds=float(data.get("seconds") or 0.0),
        )
