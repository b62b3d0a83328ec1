"""A corpus file opened: its format told by its name, its bytes (gunzipped when it ends in
``.gz``), and its text, read as UTF-8 lines with the first byte that is not UTF-8 refused by
line and column."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeAlias

from bm25x.app.corpus_file import CorpusFile
from bm25x.app.errors import CorpusError

__all__ = ["BOM"]

BOM = "\ufeff"
"""A byte-order mark: skipped at the very start of a file (Excel's "CSV UTF-8" and some
editors write one), refused anywhere else."""


_Bytes: TypeAlias = "gzip.GzipFile | io.BufferedReader[Any]"


@contextmanager
def _open_bytes(
    path: Path, source: CorpusFile | None
) -> Iterator[gzip.GzipFile | io.BufferedReader]:
    """The bytes of ``path``, decompressed if it ends in ``.gz``; through ``source`` when
    given (a file read by several passes that must see the same bytes)."""
    if source is not None:
        with source.open() as f:
            yield f
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            yield f
    else:
        with open(path, "rb") as f:
            yield f


def _text(binary: _Bytes) -> IO[str]:
    """The text of ``binary`` (closed by its owner), without a leading byte-order mark; bytes
    that are not UTF-8 become lone surrogates, which :func:`_checked_lines` reports with their
    line."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for ext, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl")):
        if name.endswith(ext):
            return fmt
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    raise CorpusError(
        f"{path}: unknown corpus format; use .jsonl, .jsonl.gz, .csv, .tsv or .parquet"
    )


def _checked_lines(f: IO[str], path: Path) -> Iterator[str]:
    """The lines of ``f`` (opened with ``errors="surrogateescape"``), refusing the first one
    that is not UTF-8 with its line number and byte column."""
    for n, line in enumerate(f, 1):
        if not line.isascii():
            _refuse_undecoded(line, n, path)
        yield line


def _refuse_undecoded(line: str, n: int, path: Path) -> None:
    """Raise if ``line`` (decoded with ``errors="surrogateescape"``) held bytes that are not
    UTF-8."""
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as e:
        column = len(line[: e.start].encode("utf-8", "surrogateescape")) + 1
        bad = line[e.start].encode("utf-8", "surrogateescape")
        raise CorpusError(
            f"{path} line {n}: not UTF-8 text (byte {bad!r} at column {column}); "
            "convert the file to UTF-8"
        ) from None
