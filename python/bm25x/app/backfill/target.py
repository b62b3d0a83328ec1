"""Where the points are: one collection, on a Qdrant server or in an Edge shard, seen the way a
backfill needs it: its vectors, its metadata, pages of points in id order, and writes of one
named vector that leave every other vector and the payload alone."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bm25x.app.backfill.model import Encoded, VectorSpec
from bm25x.app.store import FINGERPRINT, Hit, f32

__all__ = ["Existing", "PointId", "Record", "Target", "hit", "id_order", "normal_id"]

PointId = int | str
"""A point id: an unsigned integer, or a UUID in its canonical (lower-case, hyphenated) text."""
Record = tuple[PointId, "dict[str, Any] | None"]
"""A point as a scroll returns it here: its id and the payload asked for."""


def normal_id(value: Any) -> PointId:
    """``value`` as a :data:`PointId` (UUID objects and other spellings of a UUID become its
    canonical text)."""
    if isinstance(value, bool):
        raise ValueError(f"a point id is an unsigned integer or a UUID, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a point id is an unsigned integer or a UUID, got {value}")
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise ValueError(f"a point id is an unsigned integer or a UUID, got {value!r}")


def id_order(point_id: PointId) -> tuple[int, int]:
    """Qdrant's order of point ids (scroll's order): integers first, by value, then UUIDs,
    by their 128-bit value."""
    if isinstance(point_id, int):
        return 0, point_id
    return 1, uuid.UUID(point_id).int


def hit(point_id: Any, score: float, payload: Mapping[str, Any] | None) -> Hit:
    """A search result: the point's ``doc_id`` (a collection ``bm25x ingest`` wrote) or its
    id, its score as float32, and its payload (without bm25x's own keys)."""
    body = dict(payload or {})
    body.pop(FINGERPRINT, None)
    shown = body.pop("doc_id", None)
    return Hit(str(shown if shown is not None else normal_id(point_id)), f32(score), body)


@dataclass(frozen=True)
class Existing:
    """A vector the collection already has."""

    kind: str
    """``"sparse"`` or ``"dense"``."""
    idf: bool = False
    size: int | None = None
    multivector: bool = False

    def describe(self) -> str:
        if self.kind == "sparse":
            return "a sparse vector" + (" with the IDF modifier" if self.idf else " without IDF")
        shape = "multivector" if self.multivector else "dense vector"
        return f"a {shape} of size {self.size}"


class Target(ABC):
    """One collection to backfill. Methods may be called from several threads; an
    implementation serialises what its backend needs serialised."""

    @abstractmethod
    def describe(self) -> str:
        """Where the collection is, for messages (never a key)."""

    @abstractmethod
    def vectors(self) -> dict[str, Existing]:
        """The collection's named vectors, dense and sparse."""

    @abstractmethod
    def add_vector(self, name: str, spec: VectorSpec) -> None:
        """Add an empty named vector (no point has it yet); :class:`CannotAddVector` where
        the backend cannot."""

    @abstractmethod
    def metadata(self) -> dict[str, Any]:
        """The collection's metadata (a JSON object)."""

    @abstractmethod
    def save_metadata(self, entries: Mapping[str, Any]) -> None:
        """Set these top-level metadata keys (others are kept), after every write made so far
        is durable."""

    @abstractmethod
    def scroll(
        self,
        offset: PointId | None,
        limit: int,
        field: str,
        flt: Mapping[str, Any] | None,
        missing: str | None,
    ) -> tuple[list[Record], PointId | None]:
        """Up to ``limit`` points from ``offset`` on, in id order, with the payload at
        ``field`` only; ``flt`` a Qdrant filter object; ``missing`` a vector name: only points
        without it. Returns the points and the next page's offset (None after the last)."""

    @abstractmethod
    def write(self, ids: Sequence[PointId], name: str, vectors: Encoded) -> None:
        """Set the vector ``name`` of these points (and nothing else of them)."""

    @abstractmethod
    def sample(
        self, n: int, name: str, field: str, flt: Mapping[str, Any] | None
    ) -> list[tuple[PointId, dict[str, Any] | None, Any]]:
        """Up to ``n`` random points that have the vector ``name`` (and match ``flt``): id,
        payload at ``field``, and the stored vector as ``(indices, values)`` lists (sparse) or
        a list of floats (dense)."""

    @abstractmethod
    def query(self, name: str, vectors: Sequence[Any], limit: int) -> list[list[Hit]]:
        """The ``limit`` nearest points to each query vector (a :class:`bm25x.SparseVector`
        or a dense vector) in the vector ``name``, with their payloads."""

    @abstractmethod
    def count(self, flt: Mapping[str, Any] | None, missing: str | None) -> int:
        """How many points match (as :meth:`scroll` selects them)."""

    @abstractmethod
    def close(self) -> None:
        """Make every write durable and let go of the collection."""
