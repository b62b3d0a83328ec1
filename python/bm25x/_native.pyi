"""Type stubs of the Rust extension module. Use the public API in ``bm25x`` instead."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

from bm25x._sparse import SparseVector

__all__ = [
    "MAX_THREADS",
    "PYTHON_WORD_UNICODE_VERSION",
    "Encoder",
    "InternalError",
    "JsonlReader",
    "OptionError",
    "Pending",
    "ThreadStartError",
    "Worker",
    "__version__",
    "_after_fork_in_child",
    "_panic_for_tests",
    "fingerprints",
    "languages",
    "point_ids",
    "point_keys_later",
    "stopwords",
    "upsert_json",
]

__version__: str
PYTHON_WORD_UNICODE_VERSION: str
MAX_THREADS: int

def stopwords(language: str) -> list[str]:
    """The stopword list of a language (name or ISO alias), in list order."""

def languages() -> tuple[list[str], list[str]]:
    """``(stopword languages, stemmer languages)``, canonical names."""

def point_ids(doc_ids: Iterable[str]) -> list[str]:
    """The point id of each document id (``bm25x._ids.point_id``)."""

def fingerprints(texts: Iterable[str]) -> list[str]:
    """The fingerprint of each text (``bm25x.app.store.fingerprint``)."""

def point_keys_later(worker: Worker, doc_ids: Iterable[str], texts: Iterable[str]) -> Pending:
    """``(point ids, fingerprints)`` of a batch as a job of ``worker``: the strings are copied
    and checked now (what :func:`point_ids` and :func:`fingerprints` refuse is refused here),
    the hashes made on the worker's thread."""

def upsert_json(
    doc_ids: Iterable[str],
    payloads: bytes,
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.uint32],
    values: npt.NDArray[np.float32],
    sparse_name: str,
    dense: npt.NDArray[np.float32] | None,
    dense_name: str,
) -> bytes:
    """The JSON body of a Qdrant REST upsert of these documents; ``payloads`` is a JSON array
    of one object per document (its payload besides ``doc_id``)."""

def _after_fork_in_child() -> None:
    """Forget thread pools inherited through ``fork()``."""

def _panic_for_tests() -> None:
    """Panic inside the FFI guard (raises :class:`InternalError`); for the test suite."""

class OptionError(ValueError):
    """An option has a value bm25x does not accept; the message names the option."""

class ThreadStartError(RuntimeError):
    """The operating system refused to start the encoder threads asked for."""

class InternalError(RuntimeError):
    """A bug in bm25x (an internal invariant failed)."""

@final
class Encoder:
    """The native encoder behind :class:`bm25x.Bm25`."""

    def __new__(cls, options: Mapping[str, Any]) -> Encoder: ...
    def encode_one(self, item: str, query: bool) -> SparseVector: ...
    def floor_one(self, item: str, query: bool) -> SparseVector:
        """``encode_one`` without the encoding: the floor of one short query (benchmark)."""
    def encode_many(
        self, items: Sequence[str], query: bool, threads: int, offset: int = 0
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32], npt.NDArray[np.float32]]: ...
    def encode_many_later(
        self, worker: Worker, items: Sequence[str], query: bool, threads: int
    ) -> Pending:
        """``encode_many`` as a job of ``worker``; ``result()`` is its ``(indptr, indices,
        values)``."""
    def encode_first_occurrence(
        self, items: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
    def terms(self, item: str, query: bool) -> list[str]: ...
    def explain(
        self, item: str, query: bool
    ) -> list[tuple[str, str, str | None, list[tuple[str, int]]]]: ...
    def resolved(self) -> dict[str, Any]: ...

@final
class Worker:
    """One thread of bm25x's own running jobs in order, without ever taking the GIL; started
    with the first job, it exits once the worker is dropped and its jobs are done."""

    def __new__(cls) -> Worker: ...

@final
class Pending:
    """A job submitted to a :class:`Worker`."""

    def result(self) -> Any:
        """The job's value (the same object each time), waiting for it without the GIL
        (Ctrl-C stops the wait); or its error."""
    @property
    def done(self) -> bool:
        """Whether the job has finished."""

@final
class JsonlReader:
    """The JSONL corpus reader's fast path (see ``bm25x.app.corpus``): documents from the lines
    it is sure of, parsed without the GIL; it stops at the first line it declines."""

    def __new__(
        cls, text_fields: list[tuple[str, bool]], id_fields: list[str], line_ids: bool
    ) -> JsonlReader: ...
    def parse(
        self, buf: bytes, start: int, line: int, at_eof: bool
    ) -> tuple[list[tuple[str, str, int]], int, int, tuple[int, int, int] | None]:
        """``(documents as (id, text, line), end, next line, declined (line, start, end))``
        from the whole lines of ``buf[start:]``, the first being line ``line``."""
    def parse_columns(
        self, buf: bytes, start: int, line: int, at_eof: bool
    ) -> tuple[list[str], list[str], int, int, tuple[int, int, int] | None]:
        """Like :meth:`parse`, the documents as two lists: ``(ids, texts, end, next line,
        declined)``."""
    def check(
        self, buf: bytes, start: int, line: int, at_eof: bool
    ) -> tuple[tuple[int, str, int] | None, int, int, tuple[int, int, int] | None]:
        """Like :meth:`parse`, keeping only the ids and stopping at the first one seen before:
        ``((line, id, first line) or None, end, next line, declined)``."""
    def add_id(self, id: str, line: int) -> int | None:
        """Record an id read by the caller; if seen before, the line it was first on."""
    @property
    def ids_seen(self) -> int:
        """Distinct ids recorded by :meth:`check` and :meth:`add_id`."""
