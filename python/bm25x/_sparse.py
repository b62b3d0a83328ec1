"""Sparse vector containers: one vector, and a batch of vectors in CSR form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from bm25x.errors import SparseFormatError

__all__ = ["SparseBatch", "SparseVector"]


def _check_entries(
    indices: npt.NDArray[np.uint32],
    values: npt.NDArray[np.float32],
    row_starts: npt.NDArray[np.int64] | None = None,
) -> None:
    """Raise :class:`SparseFormatError` at the first non-finite value or index that does not
    strictly ascend within its vector (``row_starts``: where each vector of a batch begins)."""
    bad_values = np.flatnonzero(~np.isfinite(values))
    if bad_values.size:
        k = int(bad_values[0])
        raise SparseFormatError(
            f"{_where(k, row_starts)}values must be finite, got values[{k}] = {values[k]}"
        )
    if indices.shape[0] < 2:
        return
    steps = np.diff(indices.astype(np.int64)) <= 0
    if row_starts is not None:
        inner = row_starts[(row_starts > 0) & (row_starts < indices.shape[0])]
        steps[inner - 1] = False  # a new vector may start with any index
    bad = np.flatnonzero(steps)
    if bad.size:
        k = int(bad[0]) + 1
        what = "a duplicate" if indices[k] == indices[k - 1] else "out of order"
        raise SparseFormatError(
            f"{_where(k, row_starts)}indices must be strictly ascending, got indices[{k}] = "
            f"{indices[k]} after indices[{k - 1}] = {indices[k - 1]} ({what}); sort them "
            "(np.argsort) and merge duplicates first"
        )


def _where(k: int, row_starts: npt.NDArray[np.int64] | None) -> str:
    if row_starts is None:
        return ""
    return f"vector {int(np.searchsorted(row_starts, k, side='right')) - 1}: "


class SparseVector:
    """One sparse vector: ``indices`` (uint32, strictly ascending) and aligned ``values`` (float32,
    finite); the constructor checks both (:class:`bm25x.errors.SparseFormatError`).

    >>> v = SparseVector([3, 7], [1.5, 0.5])
    >>> v.to_dict()
    {3: 1.5, 7: 0.5}
    """

    __slots__ = ("indices", "values")

    indices: npt.NDArray[np.uint32]
    values: npt.NDArray[np.float32]

    def __init__(self, indices: Any, values: Any) -> None:
        self.indices = np.asarray(indices, dtype=np.uint32)
        self.values = np.asarray(values, dtype=np.float32)
        if self.indices.shape != self.values.shape or self.indices.ndim != 1:
            raise SparseFormatError(
                f"indices and values must be 1-d arrays of the same length, "
                f"got shapes {self.indices.shape} and {self.values.shape}"
            )
        _check_entries(self.indices, self.values)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SparseVector):
            return NotImplemented
        return bool(
            np.array_equal(self.indices, other.indices)
            and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n = len(self)
        shown = ", ".join(f"{i}: {v!s}" for i, v in zip(self.indices[:5].tolist(), self.values[:5]))
        more = f", ... ({n} entries)" if n > 5 else ""
        return f"SparseVector({{{shown}{more}}})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SparseVector, (self.indices, self.values))

    def to_dict(self) -> dict[int, float]:
        """``{index: value}`` with Python ints and floats."""
        return dict(zip(self.indices.tolist(), self.values.tolist()))

    def as_qdrant(self) -> dict[str, list[Any]]:
        """The JSON shape of a Qdrant sparse vector: ``{"indices": [...], "values": [...]}``."""
        return {"indices": self.indices.tolist(), "values": self.values.tolist()}


class SparseBatch:
    """Many sparse vectors in CSR form: vector ``i`` is
    ``indices[indptr[i]:indptr[i+1]]`` with the aligned ``values``.

    Items are cheap views into the shared arrays. The constructor checks the CSR structure and
    each vector's invariants as :class:`SparseVector` does.

    >>> b = SparseBatch([0, 2, 2], [1, 5], [0.5, 0.25])
    >>> len(b), b[0].to_dict(), len(b[1])
    (2, {1: 0.5, 5: 0.25}, 0)
    """

    __slots__ = ("indices", "indptr", "values")

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.uint32]
    values: npt.NDArray[np.float32]

    def __init__(self, indptr: Any, indices: Any, values: Any) -> None:
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.uint32)
        self.values = np.asarray(values, dtype=np.float32)
        if (
            self.indptr.ndim != 1
            or self.indptr.shape[0] < 1
            or self.indptr[0] != 0
            or self.indptr[-1] != self.indices.shape[0]
            or self.indices.ndim != 1
            or self.indices.shape != self.values.shape
        ):
            raise SparseFormatError(
                "inconsistent CSR arrays: need 1-d arrays, indptr[0] == 0, "
                "indptr[-1] == len(indices) == len(values)"
            )
        falls = np.flatnonzero(np.diff(self.indptr) < 0)
        if falls.size:
            k = int(falls[0]) + 1
            raise SparseFormatError(
                f"indptr must never decrease, got indptr[{k}] = {self.indptr[k]} after "
                f"indptr[{k - 1}] = {self.indptr[k - 1]}"
            )
        _check_entries(self.indices, self.values, self.indptr[:-1])

    def __len__(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @overload
    def __getitem__(self, i: int) -> SparseVector: ...
    @overload
    def __getitem__(self, i: slice) -> list[SparseVector]: ...
    def __getitem__(self, i: int | slice) -> SparseVector | list[SparseVector]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"batch indices must be integers or slices, not {type(i).__name__}")
        j = int(i)
        if j < 0:
            j += n
        if not 0 <= j < n:
            raise IndexError(f"batch index {i} out of range for a batch of {n}")
        a, b = int(self.indptr[j]), int(self.indptr[j + 1])
        v = SparseVector.__new__(SparseVector)
        v.indices = self.indices[a:b]
        v.values = self.values[a:b]
        return v

    def __iter__(self) -> Iterator[SparseVector]:
        for j in range(len(self)):
            yield self[j]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SparseBatch):
            return NotImplemented
        return bool(
            np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.indices, other.indices)
            and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SparseBatch({len(self)} vectors, {self.indices.shape[0]} non-zeros)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SparseBatch, (self.indptr, self.indices, self.values))

    @classmethod
    def concat(cls, batches: list[SparseBatch]) -> SparseBatch:
        """Join batches end to end."""
        if not batches:
            return cls([0], [], [])
        offsets = np.cumsum([0] + [b.indptr[-1] for b in batches[:-1]])
        indptr = np.concatenate(
            [batches[0].indptr[:1]] + [b.indptr[1:] + off for b, off in zip(batches, offsets)]
        )
        return cls(
            indptr,
            np.concatenate([b.indices for b in batches]),
            np.concatenate([b.values for b in batches]),
        )
