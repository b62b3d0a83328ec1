"""The records of a JSONL file: one JSON object a line, parsed by orjson where it reads the
line as json does, by json elsewhere."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bm25x.app.corpus.files import BOM
from bm25x.app.errors import CorpusError

_fast_loads: Callable[[str], Any] | None
try:
    from orjson import JSONDecodeError as _FastError
    from orjson import loads as _fast_loads
except ImportError:  # installed without its dependencies: json alone
    _fast_loads = None


def _loads(line: str) -> Any:
    """``json.loads(line)`` as far as a corpus record is read (its top-level fields), faster.
    orjson parses the line; json takes over for the lines orjson refuses (NaN, escaped lone
    surrogates, nesting deeper than 1,024, invalid JSON), accepting or refusing them with its
    own words, and for records with a float at the top level, since orjson reads an integer
    beyond 64 bits as a float."""
    if _fast_loads is not None:
        try:
            record = _fast_loads(line)
        except _FastError:
            return json.loads(line)
        if not isinstance(record, dict):
            return record
        for value in record.values():
            if type(value) is float:
                return json.loads(line)
        return record
    return json.loads(line)


def _jsonl_rows(lines: Iterator[str], path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, line in enumerate(lines, 1):
        if not line or line.isspace():
            continue
        yield n, _record(line, n, path)


def _record(line: str, n: int, path: Path) -> dict[str, Any]:
    """The JSON object on line ``n``."""
    try:
        record = _loads(line)
    except json.JSONDecodeError as e:
        if line.startswith(BOM):
            raise CorpusError(
                f"{path} line {n}: a byte-order mark (U+FEFF) starts this line; one is allowed "
                "only at the start of the file (were files joined?); remove it"
            ) from None
        raise CorpusError(
            f"{path} line {n}: not valid JSON ({e.msg} at column {e.colno})"
        ) from None
    except RecursionError:
        raise CorpusError(
            f"{path} line {n}: JSON nested too deeply to read (Python's limit is about "
            f"{sys.getrecursionlimit()} levels); flatten the record"
        ) from None
    if not isinstance(record, dict):
        raise CorpusError(f"{path} line {n}: expected a JSON object, got {type(record).__name__}")
    return record
