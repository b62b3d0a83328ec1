"""Reading corpora: JSONL (optionally gzipped), CSV and Parquet files of documents, and BEIR
folders (corpus, queries, qrels). Every problem is reported with the file and line."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice, starmap
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeAlias

from bm25x.app.corpus_file import CorpusFile
from bm25x.errors import CorpusError
from bm25x.internals import JsonlReader

__all__ = [
    "DEFAULT_TEXT_FIELDS",
    "Beir",
    "CorpusError",
    "Doc",
    "check_docs",
    "load_beir",
    "read_batches",
    "read_docs",
]

DEFAULT_TEXT_FIELDS = ("title", "text")
"""Joined with a space; with the default, ``title`` may be absent, ``text`` may not."""
ID_FIELDS = ("_id", "id")
"""Tried in order when no id field is named; without any, the 1-based row number is the id."""


class Doc(NamedTuple):
    """One document: its id (always a string) and the text to encode. A named tuple: ingest
    makes one per document, and a tuple is made in half the time of a frozen dataclass."""

    id: str
    text: str
    line: int
    """Line (JSONL, CSV) or row (Parquet, 1-based) it came from, for error messages."""


_CSV_FIELD_LIMIT = 2**31 - 1


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


_ABSENT = object()


class _Rules:
    """How a record becomes a document: which fields are its text and its id, checked with
    errors that name the file, the line and the fix."""

    __slots__ = ("checks", "id_field", "id_fields", "path", "wanted", "where")

    def __init__(self, path: Path, text_fields: Sequence[str], id_field: str | None):
        fields = tuple(text_fields)
        self.path = path
        self.where = "line" if _format(path) != "parquet" else "row"
        self.wanted = ("text",) if fields == DEFAULT_TEXT_FIELDS else fields
        # (field, whether a string there counts as the document's text) in joining order
        self.checks = tuple((field, field in self.wanted) for field in fields)
        self.id_field = id_field
        self.id_fields = ID_FIELDS if id_field is None else (id_field,)

    def doc(self, record: dict[str, Any], n: int) -> Doc:
        """The document of ``record``, read from line (or row) ``n``."""
        path, where = self.path, self.where
        parts = []
        found = False
        for field, counts in self.checks:
            value = record.get(field)
            if value is None:
                continue
            if not isinstance(value, str):
                raise CorpusError(
                    f"{path} {where} {n}: field {field!r} must be a string, "
                    f"got {type(value).__name__}"
                )
            if not value.isascii():
                _refuse_surrogates(path, where, n, field, value)
            found = found or counts
            if value:
                parts.append(value)
        if not found:
            raise _no_text(path, where, n, record, self.wanted)
        for name in self.id_fields:
            key = record.get(name, _ABSENT)
            if key is not _ABSENT:
                break
        else:
            if self.id_field is not None:
                raise CorpusError(f"{path} {where} {n}: id field {self.id_field!r} is missing")
            key = n
        if type(key) is not str or not key:
            key = _doc_id(path, where, n, key)
        elif not key.isascii():
            _refuse_surrogates(path, where, n, None, key)
        return Doc(key, " ".join(parts), n)


def read_docs(
    path: Path,
    *,
    text_fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    id_field: str | None = None,
    source: CorpusFile | None = None,
) -> Iterator[Doc]:
    """The documents of a corpus file, validated one record at a time.

    ``text_fields`` are joined with a space (missing or empty ones skipped, but at least one
    must be present as a string). ``id_field`` names the id; by default ``_id`` or ``id``,
    else the row number. ``source`` (the same file as a :class:`CorpusFile`) makes this pass
    read the bytes an earlier pass through it read, or raise."""
    rules = _Rules(path, text_fields, id_field)
    if _JsonlReader is not None and _format(path) == "jsonl":
        reader = _reader(rules, _JsonlReader)
        for docs, declined in _native_pass(path, reader.parse, source):
            yield from starmap(Doc, docs)
            if declined is not None:
                doc = _declined_doc(rules, *declined)
                if doc is not None:
                    yield doc
        return
    for n, record in _rows(path, source):
        yield rules.doc(record, n)


Columns = tuple[list[str], list[str]]
"""Documents as two lists: their ids and their texts."""


def read_batches(
    path: Path,
    size: int,
    *,
    text_fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    id_field: str | None = None,
    source: CorpusFile | None = None,
) -> Generator[Columns, None, None]:
    """The documents of :func:`read_docs`, in the same order and under the same rules, as
    ``(ids, texts)`` of ``size`` documents each (the last may hold fewer). A JSONL file is
    read by the native reader as lists, with no Python object per document but its id and its
    text."""
    if size < 1:
        raise ValueError(f"size must be a positive integer, got {size}")
    ids: list[str] = []
    texts: list[str] = []
    for more_ids, more_texts in _columns(path, size, text_fields, id_field, source):
        if ids:
            ids += more_ids
            texts += more_texts
        else:
            ids, texts = more_ids, more_texts
        start = 0
        while len(ids) - start >= size:
            yield ids[start : start + size], texts[start : start + size]
            start += size
        ids, texts = ids[start:], texts[start:]
    if ids:
        yield ids, texts


def _columns(
    path: Path,
    size: int,
    text_fields: Sequence[str],
    id_field: str | None,
    source: CorpusFile | None,
) -> Iterator[Columns]:
    """The documents in lists of any length: as the native reader parses them (a buffer at a
    time), else ``size`` at a time (read no further ahead than a batch)."""
    rules = _Rules(path, text_fields, id_field)
    if _JsonlReader is not None and _format(path) == "jsonl":
        reader = _reader(rules, _JsonlReader)
        for (ids, texts), declined in _native_pass(path, _columns_step(reader), source):
            yield ids, texts
            if declined is not None:
                doc = _declined_doc(rules, *declined)
                if doc is not None:
                    yield [doc.id], [doc.text]
        return
    docs = read_docs(path, text_fields=text_fields, id_field=id_field, source=source)
    while chunk := list(islice(docs, size)):
        yield [d.id for d in chunk], [d.text for d in chunk]


def _columns_step(reader: JsonlReader) -> _Step:
    """``reader.parse_columns`` in the shape of a :data:`_Step`."""

    def step(
        buf: bytes, start: int, line: int, at_eof: bool
    ) -> tuple[Columns, int, int, tuple[int, int, int] | None]:
        ids, texts, end, next_line, declined = reader.parse_columns(buf, start, line, at_eof)
        return (ids, texts), end, next_line, declined

    return step


def check_docs(
    path: Path,
    *,
    text_fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    id_field: str | None = None,
    on_text: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
    source: CorpusFile | None = None,
) -> int:
    """Check every document of a corpus file as :func:`read_docs` reads it, and that no id
    repeats; return how many there are. ``on_text`` is called with each text; ``progress``
    with the number of documents checked since its last call. A JSONL file checked without
    ``on_text`` makes no Python object per document. ``source`` as for :func:`read_docs`."""
    rules = _Rules(path, text_fields, id_field)
    if on_text is None and _JsonlReader is not None and _format(path) == "jsonl":
        reader = _reader(rules, _JsonlReader)
        done = 0
        for repeat, declined in _native_pass(path, reader.check, source):
            if repeat is not None:
                raise _repeated(path, *repeat)
            if declined is not None:
                doc = _declined_doc(rules, *declined)
                first = None if doc is None else reader.add_id(doc.id, doc.line)
                if doc is not None and first is not None:
                    raise _repeated(path, doc.line, doc.id, first)
            if progress is not None:
                progress(reader.ids_seen - done)
                done = reader.ids_seen
        return int(reader.ids_seen)
    seen: dict[str, int] = {}
    docs = read_docs(path, text_fields=text_fields, id_field=id_field, source=source)
    for doc_id, text, line in docs:
        first = seen.setdefault(doc_id, line)
        if first != line:
            raise _repeated(path, line, doc_id, first, rules.where)
        if on_text is not None:
            on_text(text)
        if progress is not None and not len(seen) % _PROGRESS_EVERY:
            progress(_PROGRESS_EVERY)
    if progress is not None:
        progress(len(seen) % _PROGRESS_EVERY)
    return len(seen)


def _repeated(path: Path, line: int, doc_id: str, first: int, where: str = "line") -> CorpusError:
    return CorpusError(f"{path} {where} {line}: id {doc_id!r} repeats {where} {first}")


_PROGRESS_EVERY = 4096
"""Documents checked in Python between two calls of ``check_docs``'s ``progress``."""
_JsonlReader: type[JsonlReader] | None = JsonlReader
"""The native JSONL fast path (``bm25x._native``); None reads JSONL in Python alone."""
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


def _refuse_surrogates(path: Path, where: str, n: int, what: str | None, value: str) -> None:
    """Raise if ``value`` (the text of field ``what``, or the id when ``what`` is None) holds
    a lone surrogate: not text a document, a point id or a payload can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        subject = "the id" if what is None else f"field {what!r}"
        raise CorpusError(
            f"{path} {where} {n}: {subject} holds a lone surrogate at index "
            f"{e.start} (an escape like \\ud800 that is not valid Unicode)"
        ) from None


def _no_text(
    path: Path, where: str, n: int, record: dict[str, Any], wanted: Sequence[str]
) -> CorpusError:
    null = [f for f in wanted if f in record]
    if null:
        return CorpusError(
            f"{path} {where} {n}: field {null[0]!r} is null; give the text as a string "
            '("" for an empty document) or leave the record out'
        )
    present = ", ".join(map(repr, record)) or "none"
    return CorpusError(
        f"{path} {where} {n}: no text field {' or '.join(map(repr, wanted))} "
        f"(fields present: {present}); choose the text field with --text-field"
    )


def _doc_id(path: Path, where: str, n: int, value: Any) -> str:
    """The id as a string: an integer's digits; anything else but a non-empty string is an
    error."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CorpusError(
            f"{path} {where} {n}: the id must be a string or an integer, got {value!r}"
        )
    text = str(value)
    if not text:
        raise CorpusError(f"{path} {where} {n}: the id is empty")
    if not text.isascii():
        _refuse_surrogates(path, where, n, None, text)
    return text


@dataclass(frozen=True)
class Beir:
    """A BEIR dataset: the corpus file, the queries, and graded relevance per query."""

    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _one(folder: Path, patterns: Sequence[str], what: str) -> Path:
    for pattern in patterns:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    raise CorpusError(f"{folder}: no {what} file (looked for {', '.join(patterns)})")


def load_beir(folder: Path, split: str = "test") -> Beir:
    """Load a BEIR-format folder: ``corpus.jsonl[.gz]``, ``queries*.jsonl[.gz]`` and
    ``qrels*.tsv`` (or ``qrels/<split>.tsv``). Prefers files named after ``split``."""
    if not folder.is_dir():
        raise CorpusError(f"{folder}: not a directory")
    corpus = _one(folder, ["corpus.jsonl", "corpus.jsonl.gz"], "corpus")
    qpath = _one(
        folder,
        [f"queries_{split}.jsonl", f"queries_{split}.jsonl.gz", "queries*.jsonl*"],
        "queries",
    )
    rpath = _one(folder, [f"qrels_{split}.tsv", f"qrels/{split}.tsv", "qrels*.tsv"], "qrels")
    queries = {d.id: d.text for d in read_docs(qpath, text_fields=("text",))}
    qrels: dict[str, dict[str, int]] = {}
    try:
        with _open_bytes(rpath, None) as binary, _text(binary) as text:
            qrel_lines = list(_checked_lines(text, rpath))
    except (OSError, EOFError, zlib.error) as e:
        raise CorpusError(f"{rpath}: cannot read ({e})") from None
    for n, line in enumerate(qrel_lines, 1):
        cols = line.rstrip("\r\n").split("\t")
        if not line.strip() or (n == 1 and not cols[-1].lstrip("-").isdigit()):
            continue  # blank line or header
        if len(cols) == 4:  # TREC style: query, iteration, doc, score
            cols = [cols[0], cols[2], cols[3]]
        if len(cols) != 3 or not cols[2].lstrip("-").isdigit():
            raise CorpusError(
                f"{rpath} line {n}: expected 'query-id<TAB>corpus-id<TAB>score' "
                f"with an integer score, got {line.strip()!r}"
            )
        qrels.setdefault(cols[0], {})[cols[1]] = int(cols[2])
    if not qrels:
        raise CorpusError(f"{rpath}: no judged queries")
    missing = [q for q in qrels if q not in queries]
    if missing:
        raise CorpusError(
            f"{rpath}: {len(missing)} judged queries are not in {qpath.name} "
            f"(first: {missing[0]!r})"
        )
    return Beir(corpus, {q: queries[q] for q in qrels}, qrels)
