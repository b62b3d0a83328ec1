"""Batches encoded on a thread of bm25x's own that never takes the GIL
(``bm25x._native.Worker``), for a caller whose threads need the GIL while they are encoded.

The ``bm25x`` command's ingest over REST reads on its main thread and sends from threads of
the writer's own, all of which take the GIL. A Python thread encoding the next batches takes
it too, to start each batch and to hand back its arrays; a worker's job holds only copies of
its texts and returns plain arrays, so the only Python work is in the caller, in ``submit``
and ``result()`` (160,000-170,000 documents a second against 142,000-144,000 with a Python
thread, benches/README.md).
"""

from __future__ import annotations

from typing import Generic, NoReturn, Protocol, TypeVar

from bm25x._encoder import Bm25, _threads
from bm25x._native import Pending, Worker
from bm25x._sparse import SparseBatch

__all__ = ["Failed", "Later", "Ready", "Worker", "encode_later"]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class Later(Protocol[_T_co]):
    """A value being computed: ``result()`` waits for it, or raises its error."""

    def result(self) -> _T_co: ...


class Ready(Generic[_T]):
    """A value known at once, as a :class:`Later`."""

    __slots__ = ("_value",)

    def __init__(self, value: _T) -> None:
        self._value = value

    def result(self) -> _T:
        return self._value


class Failed:
    """An error to raise when the value is asked for, as a :class:`Later` of anything: a
    batch refused when it is submitted fails where its value is taken, as it would had it
    been computed there."""

    __slots__ = ("_error",)

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def result(self) -> NoReturn:
        raise self._error


class _Encoded:
    """A batch being encoded: ``result()`` is its :class:`SparseBatch`."""

    __slots__ = ("_pending",)

    def __init__(self, pending: Pending) -> None:
        self._pending = pending

    @property
    def done(self) -> bool:
        """Whether the batch is encoded (``result()`` would not wait)."""
        return bool(self._pending.done)

    def result(self) -> SparseBatch:
        indptr, indices, values = self._pending.result()
        b = SparseBatch.__new__(SparseBatch)
        b.indptr, b.indices, b.values = indptr, indices, values
        return b


def encode_later(
    worker: Worker, encoder: Bm25, texts: list[str], threads: int | None = None
) -> Later[SparseBatch]:
    """``encoder.encode(texts, threads=threads)`` as a job of ``worker``: returns at once
    (the texts are copied). What ``encode`` would raise, the result raises."""
    try:
        n = _threads(threads) or encoder.threads
        return _Encoded(encoder._native.encode_many_later(worker, texts, False, n))
    except (TypeError, ValueError) as e:
        return Failed(e)
