"""The documents of a corpus file, read (:func:`read_docs`, :func:`read_batches`) or checked
(:func:`check_docs`): through the native pass for JSONL, through the rows of each format
otherwise, under the same rules either way."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from itertools import islice, starmap
from pathlib import Path

from bm25x.app.corpus.files import _format
from bm25x.app.corpus.native import _columns_step, _declined_doc, _native_pass, _reader
from bm25x.app.corpus.rows import _rows
from bm25x.app.corpus.rules import DEFAULT_TEXT_FIELDS, Columns, Doc, _Rules
from bm25x.app.corpus_file import CorpusFile
from bm25x.app.errors import CorpusError
from bm25x.internals import JsonlReader

__all__ = ["check_docs", "read_batches", "read_docs"]


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
