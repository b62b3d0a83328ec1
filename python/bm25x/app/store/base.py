"""The store interface (:class:`Store`) every backend implements, and the results it gives
(:class:`Hit`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bm25x import SparseBatch, SparseVector

__all__ = ["Dense", "Hit", "Store"]


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    """The document id."""
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


Dense = npt.NDArray[np.float32]


class Store(ABC):
    """One collection in some Qdrant: ``settings`` opens an existing one, ``create`` makes a
    fresh one (replacing any), ``save_settings`` records settings (e.g. that an ingest
    finished)."""

    @property
    def writes_in_background(self) -> bool:
        """Whether :meth:`upsert` hands the points to threads of the store's own and returns
        (the REST writer), rather than writing them on the calling thread."""
        return False

    @abstractmethod
    def describe(self) -> str:
        """Where the collection is, for messages."""

    @abstractmethod
    def settings(self) -> dict[str, Any] | None:
        """The recorded bm25x settings, or None when there is no collection yet. Opens it."""

    @abstractmethod
    def create(
        self, settings: dict[str, Any], dense_size: int | None, replace: bool = False
    ) -> None:
        """Make a fresh, empty collection recording ``settings``; an existing one is replaced
        only with ``replace`` (else an error: another process created it meanwhile)."""

    @abstractmethod
    def lock(self, shared: bool) -> None:
        """Hold the store against other processes until :meth:`close`: exclusively for
        writing, shared for reading. A no-op where the backend has no local lock (a server
        collection: Qdrant orders the writes; creation re-checks instead)."""

    @abstractmethod
    def save_settings(self, settings: dict[str, Any]) -> None:
        """Record new settings atomically, after flushing the writes made so far."""

    @abstractmethod
    def drop(self) -> None:
        """Delete the collection."""

    @abstractmethod
    def existing(self, doc_ids: Sequence[str]) -> dict[str, str | None]:
        """Which of these documents the collection holds, with the text fingerprint each was
        written with (None when unknown)."""

    @abstractmethod
    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
        *,
        point_ids: Sequence[str] | None = None,
    ) -> None:
        """Write documents (overwriting any with the same id). ``point_ids``, when the caller
        has them, are the point ids of ``doc_ids`` (``bm25x.internals.point_ids``), made
        beforehand; a store computes them otherwise, or where it writes the points."""

    @abstractmethod
    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        """Top ``limit`` documents per query; with dense query vectors, both rankings fused by
        reciprocal rank fusion."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the collection holds."""

    @abstractmethod
    def close(self) -> None:
        """Release the collection (flushes writes)."""

    def free_space(self) -> int | None:
        """Bytes free on the disk that holds the collection, or None where it is not on a
        local disk (a server's)."""
        return None

    def disk_used(self) -> int:
        """Bytes the collection's files take on a local disk (0 for none, or a server's)."""
        return 0
