"""Inter-process locks for local stores: an advisory lock on a file next to the store
directory (``.NAME.lock``), exclusive for writers (ingest) and shared for readers (search).

The lock file lives beside the store, not in it, because creating or recreating a store
replaces the whole directory. It is never deleted (deleting lock files reopens the race they
close); the operating system releases the lock when its holder exits, even on ``SIGKILL``.
Locks never wait: a store in use is reported at once, naming the holder's process id.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

__all__ = ["LockBusy", "StoreLock"]


class LockBusy(Exception):
    """Another process holds the lock; ``pid`` is the last writer recorded (or None)."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(pid)
        self.pid = pid


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(f: IO[str], shared: bool) -> bool:
        # msvcrt has exclusive locks only: readers exclude each other there too.
        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f: IO[str]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(f: IO[str], shared: bool) -> bool:
        try:
            fcntl.flock(f.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (a writer killed by a signal leaves its pid)."""
    if sys.platform == "win32":  # pragma: no cover - os.kill would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class StoreLock:
    """The lock of the store directory ``store`` (held by this object until :meth:`release`)."""

    def __init__(self, store: Path) -> None:
        where = store.resolve()  # `.` and `..` have no name of their own; a link is its target
        self.path = where.parent / f".{where.name}.lock"
        self._file: IO[str] | None = None
        self.shared: bool | None = None
        """None when not held, else whether the held lock is shared."""

    def acquire(self, shared: bool) -> None:
        """Take the lock (no-op when held in a mode that covers ``shared``). A reader where
        there is no lock file goes without one. Raises :class:`LockBusy` when another process
        holds it, OSError when a writer cannot create the lock file."""
        if self.shared is not None and (shared or not self.shared):
            return
        self.release()
        if shared:
            try:
                f = open(self.path, encoding="utf-8")
            except OSError:
                # No lock file: no writer has used this store since locks exist (or the
                # location is read-only). Readers do not create one, so a search of a typo'd
                # path or a read-only store leaves nothing behind.
                self.shared = True
                return
        else:
            f = open(self.path, "a+", encoding="utf-8")
        if not _try_lock(f, shared):
            f.seek(0)
            recorded = f.read(32).strip()
            f.close()
            raise LockBusy(int(recorded) if recorded.isdigit() and _alive(int(recorded)) else None)
        if not shared:
            f.seek(0)
            f.truncate()
            f.write(str(os.getpid()))
            f.flush()
        self._file, self.shared = f, shared

    def release(self) -> None:
        """Let go of the lock, if held."""
        if self._file is not None:
            try:
                if not self.shared:
                    self._file.truncate(0)  # the pid names the writer only while it writes
                _unlock(self._file)
            finally:
                self._file.close()
        self._file, self.shared = None, None
