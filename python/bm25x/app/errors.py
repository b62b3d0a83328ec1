"""The errors of the ``bm25x`` command's Python API (``bm25x.app``: ingest, search, the
stores, the corpus readers), defined in one place; ``bm25x.app`` exports them.

The hierarchy::

    ValueError
    └── CorpusError            a corpus file cannot be read
    RuntimeError
    └── StoreError             a store cannot be created, opened or written
        ├── MissingCollection  there is no collection to search
        └── BackfillError      (bm25x.app.backfill) a collection cannot be backfilled as asked

``StoreError`` and ``CorpusError`` were defined in :mod:`bm25x.errors` before; importing them
from there still works, with a :class:`DeprecationWarning` naming this module.
"""

from __future__ import annotations

__all__ = ["CorpusError", "MissingCollection", "StoreError"]


class StoreError(RuntimeError):
    """A store cannot be created, opened or written; the message says which and why."""


class CorpusError(ValueError):
    """A corpus file cannot be read; the message names the file, the line and the problem."""


class MissingCollection(StoreError):
    """There is no collection to search; ``where`` is the store's ``describe()`` (where the
    collection would be)."""

    def __init__(self, where: str) -> None:
        super().__init__(f"no {where}; create it with `bm25x ingest` first")
        self.where = where
