"""The records of a CSV or TSV file, read strictly: one value per header column in every row,
and a quote that is never closed refused where it opens."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bm25x.app.errors import CorpusError

_CSV_FIELD_LIMIT = 2**31 - 1


def _csv_rows(
    lines: Iterator[str], path: Path, delimiter: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a CSV/TSV file, strictly: every row has exactly the header's columns, and a
    quote that is never closed is an error instead of swallowing the rows after it. The line
    reported is where the row starts (a quoted field may span lines)."""
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)  # long documents are fine
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    try:
        header = next(reader, None)
        if not header:
            raise CorpusError(f"{path}: empty file, expected a header row")
        start = reader.line_num + 1
        for row in reader:
            n, start = start, reader.line_num + 1
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                more = len(row) > len(header)
                raise CorpusError(
                    f"{path} line {n}: {'more' if more else 'fewer'} columns than the header "
                    f"({len(row)}, the header has {len(header)}); give every row one value per "
                    "column (an empty value is two delimiters in a row), and quote values "
                    f"that contain {'a tab' if delimiter == chr(9) else 'a comma'}"
                )
            yield n, dict(zip(header, row))
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise CorpusError(
                f"{path} line {start}: a quoted value that starts on this line is never closed "
                '(a " without its closing ", which would merge the rows after it into one '
                'document); close the quote, or write a literal quote as ""'
            ) from None
        raise CorpusError(
            f"{path} line {start}: bad CSV ({e}); a quoted value must be closed right before "
            'the delimiter or the end of the line, and a literal quote inside it written as ""'
        ) from None
