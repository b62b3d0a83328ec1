"""The records of a corpus file of any format, in file order, each with its line (or row)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bm25x.app.corpus.delimited import _csv_rows
from bm25x.app.corpus.files import _checked_lines, _format, _open_bytes, _text
from bm25x.app.corpus.jsonl import _jsonl_rows
from bm25x.app.corpus.parquet import _parquet_rows
from bm25x.app.corpus_file import CorpusFile
from bm25x.app.errors import CorpusError


def _rows(path: Path, source: CorpusFile | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` for every record, in file order."""
    if not path.exists():
        raise CorpusError(f"{path}: no such file")
    fmt = _format(path)
    if fmt == "parquet":
        yield from _parquet_rows(path, source)
        return
    try:
        with _open_bytes(path, source) as binary, _text(binary) as text:
            lines = _checked_lines(text, path)
            if fmt == "jsonl":
                yield from _jsonl_rows(lines, path)
            else:
                delimiter = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ","
                yield from _csv_rows(lines, path, delimiter)
    except (OSError, EOFError, zlib.error) as e:
        raise CorpusError(f"{path}: cannot read ({e})") from None
