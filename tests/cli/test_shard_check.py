"""The id tracker log check (bm25x.app.shard_check): every log Qdrant's rules can write passes,
and a slot past the ones handed out, or an unknown entry type, is named by entry and byte."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from support.strategies import examples

from bm25x.app.shard_check import _walk, log_damage

INSERT_NUM, INSERT_UUID, DELETE_NUM, DELETE_UUID = 1, 2, 3, 4


def insert(slot: int, uuid: bool = True, ext: int = 7) -> bytes:
    if uuid:
        return struct.pack("<B16sI", INSERT_UUID, ext.to_bytes(16, "little"), slot)
    return struct.pack("<BQI", INSERT_NUM, ext, slot)


def delete(uuid: bool = True, ext: int = 7) -> bytes:
    if uuid:
        return struct.pack("<B16s", DELETE_UUID, ext.to_bytes(16, "little"))
    return struct.pack("<BQ", DELETE_NUM, ext)


@st.composite
def valid_logs(draw: st.DrawFn, uuid_only: bool = False) -> bytes:
    """A log as Qdrant writes one: a new point takes the next slot, an insert may point at a
    slot already handed out, deletes anywhere, and perhaps a last entry cut short."""
    entries, handed_out = [], 0
    for _ in range(draw(st.integers(0, 60))):
        uuid = True if uuid_only else draw(st.booleans())
        ext = draw(st.integers(0, 2**63))
        kind = draw(st.sampled_from(["new", "old", "delete"] if not uuid_only else ["new", "old"]))
        if kind == "new" or (kind == "old" and handed_out == 0):
            entries.append(insert(handed_out, uuid, ext))
            handed_out += 1
        elif kind == "old":
            entries.append(insert(draw(st.integers(0, handed_out - 1)), uuid, ext))
        else:
            entries.append(delete(uuid, ext))
    log = b"".join(entries)
    if draw(st.booleans()):
        last = insert(handed_out) if uuid_only or draw(st.booleans()) else delete(False)
        log += last[: draw(st.integers(1, len(last) - 1))]
    return log


@given(valid_logs())
@settings(max_examples=examples(300))
def test_every_log_qdrants_rules_write_passes(log: bytes) -> None:
    assert log_damage(log) is None


@given(valid_logs(uuid_only=True))
@settings(max_examples=examples(300))
def test_every_uuid_log_passes_the_fast_check(log: bytes) -> None:
    assert log_damage(log) is None


@given(st.lists(st.integers(0, 2**32 - 1), max_size=40), st.binary(max_size=20))
@settings(max_examples=examples(300))
def test_the_fast_check_and_the_walk_agree(slots: list[int], tail: bytes) -> None:
    log = b"".join(insert(s % 50 if s % 3 else s) for s in slots) + tail
    assert log_damage(log) == _walk(log)


def test_a_slot_past_the_handed_out_ones_is_named() -> None:
    log = insert(0) + insert(1) + insert(1) + insert(3)
    assert log_damage(log) == (
        "entry 3 (byte 63) points at slot 3, past the 2 handed out before it"
    )
    mixed = insert(0, uuid=False) + delete(False) + insert(5)
    assert log_damage(mixed) == (
        "entry 2 (byte 22) points at slot 5, past the 1 handed out before it"
    )


def test_the_first_insert_must_take_slot_zero() -> None:
    assert log_damage(insert(1)) == (
        "entry 0 (byte 0) points at slot 1, past the 0 handed out before it"
    )


def test_an_unknown_entry_type_is_named() -> None:
    assert log_damage(insert(0) + b"\x09" + bytes(20)) == (
        "entry 1 (byte 21) has the unknown type 0x09"
    )
