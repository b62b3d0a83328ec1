"""A corpus file that ingest reads twice, once to check every document and once to write them,
made to give the write pass exactly the bytes the check read.

It must be a regular file: a pipe, a device or a socket gives its bytes once, and the write
pass would wait forever for more. Its identity, size and modification time are noted when the
checking pass opens it and compared before the write pass starts, which catches an edit in
between before anything is written. The checking pass also digests the file a block at a time,
and the write pass compares each block before giving out any of its bytes: a change that keeps
the size and modification time, or that happens during the write pass, stops the ingest before
a document the check did not see is written. Parquet files are read by pyarrow, not through
these blocks: for them the size and modification time are compared before the write pass and
before each batch of rows it reads.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple

from bm25x.app.errors import CorpusError

__all__ = ["BLOCK", "CorpusFile"]

BLOCK = 1 << 20
"""Bytes digested as one block: the write pass holds at most this much of the file that it
has not yet compared."""


class _Stamp(NamedTuple):
    device: int
    inode: int
    size: int
    mtime_ns: int


def _stamp(st: os.stat_result) -> _Stamp:
    return _Stamp(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is, for messages; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


class CorpusFile:
    """``path``, to be read by several passes that must all see the same bytes (see the
    module's description). Refuses at once a path that is not a regular file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            st = os.stat(path)  # not open(): opening a named pipe waits for a writer
        except FileNotFoundError:
            raise CorpusError(f"{path}: no such file") from None
        except OSError as e:
            raise CorpusError(f"{path}: cannot read ({e})") from None
        kind = _kind(st.st_mode)
        if kind is not None:
            raise CorpusError(
                f"{path} is {kind}, not a file: ingest reads the corpus twice (once to check "
                "every document, then to write them), so it must be a regular file; save the "
                "stream to a file first"
            )
        self._stamp = _stamp(st)
        """The file as the checking pass opened it."""
        self.size = st.st_size
        """Bytes the file takes (compressed, for .gz)."""
        self._digests: list[bytes] | None = None
        """One digest per block, once a pass has read the whole file."""

    @contextmanager
    def open(self) -> Iterator[gzip.GzipFile | io.BufferedReader[Any]]:
        """The file's bytes, decompressed if it ends in ``.gz``. The first pass to read the
        whole file records what it read; every later pass must read the same bytes, or
        raises :class:`CorpusError` before giving out any byte of the first block that
        differs."""
        with open(self.path, "rb", buffering=0) as f:
            expected = self._digests
            if expected is None:
                self._stamp = _stamp(os.fstat(f.fileno()))
            blocks = _Blocks(f, expected, self)
            stream: gzip.GzipFile | io.BufferedReader[Any] = (
                gzip.GzipFile(fileobj=blocks, mode="rb")
                if self.path.suffix == ".gz"
                else io.BufferedReader(blocks)
            )
            with stream:
                yield stream
            if expected is None and blocks.complete:
                self._digests = blocks.digests

    def confirm(self) -> None:
        """Raise :class:`CorpusError` if the file's identity, size or modification time are no
        longer what they were when the checking pass opened it."""
        try:
            now = _stamp(os.stat(self.path))
        except OSError:
            now = None
        if now != self._stamp:
            raise CorpusError(
                f"{self.path} changed after it was checked (it was replaced, or its size or "
                "modification time differ); nothing from it was written. Run the command "
                "again once the file no longer changes"
            )

    def changed_at(self, offset: int) -> CorpusError:
        """The error for a pass that read other bytes than the checking pass, from ``offset``
        (a byte of the file as stored, compressed or not) on."""
        return CorpusError(
            f"{self.path} changed while it was being ingested: from byte {offset:,} on it is "
            "not what the check read, so the ingest stopped before writing any document from "
            "there (documents before it may have been written). Once the file no longer "
            "changes, run the same command again: it checks the file again and resumes"
        )


class _Blocks(io.RawIOBase):
    """The bytes of ``file``, a block at a time: with ``expected`` None each block's digest is
    recorded, else it is compared with the recorded one before any of its bytes are given."""

    def __init__(self, file: IO[bytes], expected: list[bytes] | None, owner: CorpusFile):
        super().__init__()
        self._file = file
        self._expected = expected
        self._owner = owner
        self._block = memoryview(b"")
        self._at = 0
        self.digests: list[bytes] = []
        self.offset = 0
        """Bytes of the file read so far."""
        self.complete = False
        """Whether the end of the file was reached."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._at == len(self._block):
            if self.complete or not self._next():
                return 0
        n = min(len(buffer), len(self._block) - self._at)
        buffer[:n] = self._block[self._at : self._at + n]
        self._at += n
        return n

    def _next(self) -> bool:
        """Read, digest and check the next block; False at the end of the file."""
        data = self._file.read(BLOCK)
        while 0 < len(data) < BLOCK:  # a short read: blocks must be cut alike in every pass
            more = self._file.read(BLOCK - len(data))
            if not more:
                break
            data += more
        index = len(self.digests)
        expected = self._expected
        if not data:
            self.complete = True
            if expected is not None and index != len(expected):
                raise self._owner.changed_at(self.offset)  # shorter than it was
            return False
        digest = hashlib.sha1(data, usedforsecurity=False).digest()
        if expected is not None and (index >= len(expected) or expected[index] != digest):
            raise self._owner.changed_at(self.offset)
        self.digests.append(digest)
        self._block, self._at = memoryview(data), 0
        self.offset += len(data)
        return True
