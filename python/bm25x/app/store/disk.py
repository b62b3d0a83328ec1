"""How an Edge store meets its disk: settings written atomically, the builds and set-aside
copies it leaves beside itself, and a full disk told apart from other failures."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path
from typing import Any

from bm25x.app.errors import StoreError
from bm25x.app.shard_snapshot import READ_INFIX


def _write_json(file: Path, settings: dict[str, Any]) -> None:
    """Write settings atomically (a reader sees the old file or the new one, never half)."""
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text(
        json.dumps(settings, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, file)


_BUILD_INFIX = ".bm25x-build-"
"""A store is built in ``.NAME.bm25x-build-PID`` beside its directory and renamed into place,
so an interrupt never leaves a half-made store under the store's own name."""
_OLD_INFIX = ".bm25x-old-"
"""A store being replaced or dropped is renamed to ``.NAME.bm25x-old-PID`` and deleted there."""


def _leftovers(store: Path) -> list[Path]:
    """The builds and old stores that processes writing ``store`` (an absolute path) left
    beside it: ``.NAME.bm25x-build-PID``, ``.NAME.bm25x-old-PID`` and the snapshots of killed
    searches, ``.NAME.bm25x-read-PID-HEX``, NAME compared exactly (a glob would read ``[``,
    ``*`` or ``?`` in a store's name as a pattern that matches other stores' folders)."""
    infixes = "|".join(map(re.escape, (_BUILD_INFIX, _OLD_INFIX)))
    ours = re.compile(
        rf"\.{re.escape(store.name)}(?:(?:{infixes})[0-9]+|{re.escape(READ_INFIX)}[0-9]+-[0-9a-f]+)"
    )
    try:
        names = os.listdir(store.parent)
    except OSError:
        return []
    return [store.parent / name for name in names if ours.fullmatch(name)]


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FULL_TEXTS = ("No space left on device", "os error 28", "Disk quota exceeded", "os error 122")
"""How the operating system says a disk (or the user's quota) is full, to Python and to the
store library (Rust's io::Error)."""


def _disk_full(e: BaseException) -> bool:
    """Whether ``e`` says the disk is full."""
    if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
        return True
    return _says_full(str(e))


def _says_full(text: str) -> bool:
    return any(t in text for t in _FULL_TEXTS)


def _full_error(where: Path, detail: str) -> StoreError:
    """The error for a write that found the disk holding ``where`` full: what was written
    stays, and the command resumes once there is room (never advise rebuilding for it)."""
    return StoreError(
        f"the disk holding {where} is full ({detail}); free some space and run the same "
        "command again: an ingest resumes where it stopped, and what it wrote is kept"
    )


def _first_line(e: BaseException, limit: int = 300) -> str:
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"
