"""The native pass over a JSONL file (``bm25x.internals.JsonlReader``): the file read a buffer
at a time, each line the native reader declines read by the Python path's rules instead."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bm25x.app.corpus.files import BOM, _open_bytes, _refuse_undecoded
from bm25x.app.corpus.jsonl import _record
from bm25x.app.corpus.rules import Columns, Doc, _Rules
from bm25x.app.corpus_file import CorpusFile
from bm25x.app.errors import CorpusError
from bm25x.internals import JsonlReader

_CHUNK = 1 << 20
"""Bytes read at a time by the native JSONL path (more while one line is longer)."""

_Declined = tuple[str, int]
"""A line the native reader left to Python: its text (with its line end) and number."""
_Step = Callable[[bytes, int, int, bool], tuple[Any, int, int, "tuple[int, int, int] | None"]]
"""``JsonlReader.parse`` or ``.check``: ``(buf, start, line, at_eof) -> (result, end, next
line, declined)``."""


def _reader(rules: _Rules, reader_type: type[JsonlReader]) -> JsonlReader:
    return reader_type(list(rules.checks), list(rules.id_fields), rules.id_field is None)


def _native_pass(
    path: Path, step: _Step, source: CorpusFile | None
) -> Iterator[tuple[Any, _Declined | None]]:
    """Run the native reader over a JSONL file (plain or gzipped), a buffer at a time:
    ``step(buf, start, line, at_eof) -> (result, start, line, declined)`` reads from ``start``;
    yields each step's result with the line it declined, if any, for the caller to read in
    Python (with :func:`_declined_doc`) before the reader goes on after it."""
    if not path.exists():
        raise CorpusError(f"{path}: no such file")
    buf, start, line, eof = b"", 0, 1, False
    try:
        with _open_bytes(path, source) as f:
            while True:
                result, start, line, declined = step(buf, start, line, eof)
                if declined is not None:
                    n, first, _ = declined
                    yield result, (buf[first:start].decode("utf-8", "surrogateescape"), n)
                    continue
                yield result, None
                if eof:
                    return
                chunk = f.read(max(_CHUNK, len(buf) - start))
                eof = not chunk
                buf = buf[start:] + chunk
                start = 0
    except (OSError, EOFError, zlib.error) as e:
        raise CorpusError(f"{path}: cannot read ({e})") from None


def _declined_doc(rules: _Rules, text: str, n: int) -> Doc | None:
    """Line ``n``, which the native reader declined, read by the Python path's rules: its
    document, None for a blank line, or the error the Python path raises."""
    if n == 1 and text.startswith(BOM):
        text = text[1:]  # the file's byte-order mark, which the Python path's decoder skips
    if not text.isascii():
        _refuse_undecoded(text, n, rules.path)
    if not text or text.isspace():
        return None
    return rules.doc(_record(text, n, rules.path), n)


def _columns_step(reader: JsonlReader) -> _Step:
    """``reader.parse_columns`` in the shape of a :data:`_Step`."""

    def step(
        buf: bytes, start: int, line: int, at_eof: bool
    ) -> tuple[Columns, int, int, tuple[int, int, int] | None]:
        ids, texts, end, next_line, declined = reader.parse_columns(buf, start, line, at_eof)
        return (ids, texts), end, next_line, declined

    return step
