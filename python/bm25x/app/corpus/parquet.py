"""The records of a Parquet file, read by pyarrow a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bm25x.app.corpus_file import CorpusFile
from bm25x.app.errors import CorpusError


def _parquet_rows(path: Path, source: CorpusFile | None) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CorpusError(
            f"{path}: reading Parquet needs pyarrow (pip install pyarrow); "
            "or convert the file to JSONL or CSV"
        ) from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:
        raise CorpusError(f"{path}: not a readable Parquet file ({e})") from None
    n = 0
    try:
        for batch in pf.iter_batches():
            if source is not None:
                source.confirm()  # pyarrow reads the file itself: its size and time only
            for record in batch.to_pylist():
                n += 1
                yield n, record
    except (OSError, ValueError) as e:  # pyarrow's errors subclass these
        raise CorpusError(f"{path}: cannot read row {n + 1} ({e})") from None
