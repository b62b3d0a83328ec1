"""Checks of a Qdrant Edge shard's files that qdrant-edge does not make before trusting them.

Each segment of a shard keeps an id tracker log, ``mutable_id_tracker.mappings``: a sequence
of entries, each a type byte followed by a little-endian body (qdrant's own format, read from
its source):

=====  ===========================  =====
type   body                         bytes
=====  ===========================  =====
1      insert: u64 id, u32 slot     13
2      insert: u128 UUID, u32 slot  21
3      delete: u64 id               9
4      delete: u128 UUID            17
=====  ===========================  =====

qdrant-edge replays the log at open and sizes its tables by the largest slot it meets, so one
damaged slot (up to 2**32 - 1) makes it allocate tens of gigabytes and abort the process, or
be killed by the kernel, with no error Python can catch. Qdrant hands out slots in order (a new
point gets the next one; an insert may also point at a slot already handed out), so in an
intact log no insert names a slot past the ones handed out before it. That is what
:func:`id_tracker_damage` checks, before qdrant-edge reads the log. A last entry cut short is
not damage: a crash while writing leaves one, and qdrant-edge drops it.

bm25x stores hold only UUID inserts, checked with numpy at memory speed (about 10 ms for a
million documents); a log with other entries is walked entry by entry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["MAPPINGS", "id_tracker_damage", "log_damage"]

MAPPINGS = "mutable_id_tracker.mappings"
"""The name of a segment's id tracker log."""
_SIZE = {1: 13, 2: 21, 3: 9, 4: 17}
"""Entry type -> length of the entry in bytes, type byte included."""
_INSERTS = frozenset({1, 2})
_UUID_INSERT = 2
_UUID_INSERTS = np.dtype([("type", "u1"), ("id", "V16"), ("slot", "<u4")])  # packed: 21 bytes


def id_tracker_damage(shard: Path) -> str | None:
    """What is wrong with the first damaged id tracker log among the segments of ``shard``
    (naming the file, relative to the shard's parent), or None when every log is intact. A log
    that cannot be read is left to qdrant-edge, which reports that itself."""
    for log in sorted(shard.glob(f"segments/*/{MAPPINGS}")):
        try:
            data = log.read_bytes()
        except OSError:
            continue
        problem = log_damage(data)
        if problem is not None:
            return f"{log.relative_to(shard.parent)}: {problem}"
    return None


def log_damage(data: bytes) -> str | None:
    """What is wrong with the id tracker log ``data``, or None when it is intact."""
    whole = len(data) // _SIZE[_UUID_INSERT]
    table = np.frombuffer(data, _UUID_INSERTS, count=whole)
    rest = data[whole * _SIZE[_UUID_INSERT] :]
    if (table["type"] == _UUID_INSERT).all() and (not rest or rest[0] == _UUID_INSERT):
        return _uuid_inserts_damage(table["slot"])
    return _walk(data)


def _uuid_inserts_damage(slots: np.ndarray) -> str | None:
    """The check for a log of UUID inserts only (the last one perhaps cut short)."""
    if not len(slots):
        return None
    wide = slots.astype(np.int64)
    handed_out = np.empty_like(wide)  # slots handed out before each entry
    handed_out[0] = 0
    np.maximum.accumulate(wide[:-1] + 1, out=handed_out[1:])
    bad = np.flatnonzero(wide > handed_out)
    if not len(bad):
        return None
    i = int(bad[0])
    return _past(i, i * _SIZE[_UUID_INSERT], int(wide[i]), int(handed_out[i]))


def _walk(data: bytes) -> str | None:
    """The check for any log, entry by entry."""
    pos = entry = handed_out = 0
    while pos < len(data):
        kind = data[pos]
        size = _SIZE.get(kind)
        if size is None:
            return f"entry {entry:,} (byte {pos:,}) has the unknown type {kind:#04x}"
        if pos + size > len(data):
            break  # cut short by a crash while writing: qdrant-edge drops it
        if kind in _INSERTS:
            slot = int.from_bytes(data[pos + size - 4 : pos + size], "little")
            if slot > handed_out:
                return _past(entry, pos, slot, handed_out)
            handed_out = max(handed_out, slot + 1)
        pos += size
        entry += 1
    return None


def _past(entry: int, pos: int, slot: int, handed_out: int) -> str:
    return (
        f"entry {entry:,} (byte {pos:,}) points at slot {slot:,}, past the {handed_out:,} "
        "handed out before it"
    )
