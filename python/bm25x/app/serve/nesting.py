"""How deep the arrays and objects of a JSON text nest, measured on its bytes before any parser
builds (or recurses into) it.

The JSON parsers at hand recurse once per level and stop only at the interpreter's recursion
limit (``RecursionError``); none takes a depth limit of its own without building the value
first. This scan counts ``[``/``{`` up and ``]``/``}`` down outside strings, a piece of the text
at a time: escaped backslashes (``\\\\``) and then escaped quotes (``\\"``) are dropped from the
piece, so that every quote left opens or closes a string, and numpy does the counting. Linear
time; memory bounded by the piece size whatever the text holds. It measures valid JSON exactly;
on invalid JSON its count means nothing, and the parser that runs next refuses the text.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nesting_depth"]

# Per byte: +1 for an opening bracket, -1 for a closing one, 2 for a quote, 0 for the rest.
_KIND = np.zeros(256, dtype=np.int8)
_KIND[[ord("["), ord("{")]] = 1
_KIND[[ord("]"), ord("}")]] = -1
_QUOTE = 2
_KIND[ord('"')] = _QUOTE
# Bytes scanned per step.
_PIECE = 1 << 18


def nesting_depth(raw: bytes | bytearray, limit: int) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (``1`` for ``{"a": 1}``, ``2`` for
    ``[[1]]``, ``0`` for a bare number or string). Stops at the first piece that goes deeper
    than ``limit`` and then returns a depth over ``limit`` (not necessarily the deepest)."""
    view = memoryview(raw)
    level = deepest = 0
    in_string = 0  # 1 when the piece starts inside a string
    escaped = False  # the piece's first byte is escaped (by the backslash ending the last one)
    for start in range(0, len(view), _PIECE):
        piece = bytes(view[start : start + _PIECE])
        if escaped:
            piece = piece[1:]
        # A run of n backslashes escapes the byte after it when n is odd. replace() drops each
        # run's n // 2 pairs (escaped backslashes), then every escaped quote; the run ending
        # the piece tells whether the next piece's first byte is escaped.
        escaped = (len(piece) - len(piece.rstrip(b"\\"))) % 2 == 1
        if b"\\" in piece:
            piece = piece.replace(b"\\\\", b"").replace(b'\\"', b"")
        kinds = _KIND[np.frombuffer(piece, dtype=np.uint8)]
        kinds = kinds[kinds != 0]
        if kinds.size == 0:
            continue
        quote = kinds == _QUOTE
        inside = (np.cumsum(quote, dtype=np.int64) + in_string) & 1
        # A bracket is never a quote, so "inside after it" is "inside at it".
        steps = np.where(quote | (inside == 1), 0, kinds)
        levels = np.cumsum(steps, dtype=np.int64) + level
        deepest = max(deepest, int(levels.max()))
        if deepest > limit:
            break
        level = int(levels[-1])
        in_string = int(inside[-1])
    return deepest
