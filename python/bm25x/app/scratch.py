"""Scratch directories that go away however the process ends: when the code that made one
removes it (:func:`remove`), at interpreter exit, and when SIGTERM or SIGHUP ends the process
(SIGINT raises KeyboardInterrupt, so the code's own cleanup runs; exit removes what is left).

SIGTERM and SIGHUP end a Python process at once by default, running no ``finally`` block or
exit handler. While a scratch directory exists, this module handles them (from the main thread
only; Python allows no other): it removes the directories, then lets the signal do what it did
before (the program's own handler, or the default, so the process still ends by the signal and
its parent sees that). A signal the program ignores stays ignored, and nothing is handled once
the last directory is gone. SIGKILL cannot be handled: what it leaves is for the directory's
owner to sweep (:meth:`bm25x.app.store.EdgeStore` does, under its exclusive lock).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["make", "remove"]

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_live: set[Path] = set()
_previous: dict[int, Any] = {}
"""The handlers this module replaced, while it handles the signals."""
_atexit_registered = False


def make(parent: Path, prefix: str) -> Path:
    """A new empty directory ``parent/PREFIX<pid>-<random>`` (mode 0o700), removed by
    :func:`remove`, at exit or by SIGTERM/SIGHUP; OSError when it cannot be created. It is
    registered before it exists, so no moment leaves it unregistered."""
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_remove_all)
        _atexit_registered = True
    path = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(8)}"
    _handle_signals()
    _live.add(path)
    try:
        path.mkdir(mode=0o700)
    except BaseException:
        _live.discard(path)
        _release_signals()
        raise
    return path


def remove(path: Path) -> None:
    """Delete a directory :func:`make` made, with everything in it."""
    shutil.rmtree(path, ignore_errors=True)
    _live.discard(path)
    _release_signals()


def _remove_all() -> None:
    for path in list(_live):
        shutil.rmtree(path, ignore_errors=True)
    _live.clear()


def _handle_signals() -> None:
    if _previous or threading.current_thread() is not threading.main_thread():
        return
    for signum in _SIGNALS:
        current = signal.getsignal(signum)
        # Ignored signals stay ignored; a handler set outside Python (None) cannot be put back.
        if current is not signal.SIG_IGN and current is not None:
            _previous[signum] = current
            signal.signal(signum, _on_signal)


def _release_signals() -> None:
    """Give the signals back to their previous handlers once no directory is left."""
    if _live or not _previous or threading.current_thread() is not threading.main_thread():
        return
    for signum, handler in list(_previous.items()):
        if signal.getsignal(signum) is _on_signal:  # else the program replaced ours since
            signal.signal(signum, handler)
        del _previous[signum]


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _remove_all()
    previous = _previous.get(signum, signal.SIG_DFL)
    _release_signals()
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
