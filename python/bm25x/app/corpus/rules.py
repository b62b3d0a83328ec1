"""How a record becomes a document (:class:`Doc`): which fields are its text and its id,
each checked with an error that names the file, the line and the fix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from bm25x.app.corpus.files import _format
from bm25x.app.errors import CorpusError

__all__ = ["DEFAULT_TEXT_FIELDS", "ID_FIELDS", "Columns", "Doc"]

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


Columns = tuple[list[str], list[str]]
"""Documents as two lists: their ids and their texts."""


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
