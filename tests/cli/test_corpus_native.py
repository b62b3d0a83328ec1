"""The native JSONL fast path reads every file exactly as the Python reader does: the same
documents with the same lines, or the same error, whatever the records, the line ends, the
compression or where the reading buffers are cut."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bm25x.app.corpus.native as corpus_native
import bm25x.app.corpus.read as corpus_read
from bm25x._native import JsonlReader
from bm25x.app.corpus import CorpusError, check_docs, read_batches, read_docs

KEYS = ["_id", "id", "title", "text", "x"]
SCALARS = st.one_of(
    st.text(max_size=4),
    st.sampled_from(["", "a b", "é", "\ud800", "\udc00\ud800", "\x00", "\u2028"]),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 2**63, 2**64, -(2**63) - 1]),
    st.floats(),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=2), max_leaves=3)
RECORDS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5)


@st.composite
def lines(draw: Any) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:  # a line that is not a plain record
        return draw(
            st.sampled_from(
                [
                    b"",
                    b"  \t",
                    b"\x0c",
                    "\xa0".encode(),
                    "\u2028".encode(),
                    "\x85".encode(),
                    b"\x1f",
                    b"[1]",
                    b"{",
                    b'{"text": "a"} x',
                    '\ufeff{"text": "a"}'.encode(),
                    b'{"text": "a\xff"}',
                    b'{"text": "a", "text": 5, "text": "b", "id": 1, "id": "k"}',
                    b'{"text": "\\ud83d\\ude00", "id": -0}',
                    b'{"text": "t\tab"}',
                    b'{"text": "x", "id": 1e2}',
                    b'{"text": "x", "n": 1e400}',
                    # nested past serde_json's 128 levels, and past Python's ~1,000
                    b'{"text": "x", "deep": ' + b"[" * 200 + b"]" * 200 + b"}",
                    b'{"text": "x", "deep": ' + b'{"a":' * 1500 + b"1" + b"}" * 1500 + b"}",
                ]
            )
        )
    record = draw(RECORDS)
    if kind >= 5:  # a document both readers take, with ids and texts of every kind
        record = {k: v for k, v in record.items() if (isinstance(v, str) and v) or k == "x"}
        record |= draw(
            st.fixed_dictionaries(
                {"text": st.text(max_size=8), "x": st.text(min_size=1, max_size=3)},
                optional={"id": st.one_of(st.text(min_size=1), st.integers(-(2**63), 2**64))},
            )
        )
    text = json.dumps(
        record,
        ensure_ascii=draw(st.booleans()) or _has_surrogate(record),
        separators=draw(st.sampled_from([(", ", ": "), (",", ":")])),
    )
    pad = draw(st.sampled_from(["", " ", "\t", "  "]))
    return (pad + text + pad).encode()


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def _read(path: Path, **kw: Any) -> list[Any]:
    """The documents read, then the error if any; then what ``check_docs`` says. Reading in
    batches (``read_batches``) gives the same ids and texts, and the same error after whole
    batches of the documents before it."""
    out: list[Any] = []
    error = None
    try:
        out.extend(tuple(d) for d in read_docs(path, **kw))
    except CorpusError as e:
        out.append(str(e))
        error = str(e)
    batched: list[tuple[str, str]] = []
    try:
        for ids, texts in read_batches(path, 2, **kw):
            assert len(ids) == len(texts) and 0 < len(ids) <= 2
            assert len(batched) % 2 == 0  # only the last batch may be short
            batched += zip(ids, texts)
    except CorpusError as e:
        assert str(e) == error
    docs = [(d[0], d[1]) for d in out if isinstance(d, tuple)]
    assert batched == (docs if error is None else docs[: len(batched)])
    ticks: list[int] = []
    try:
        out.append(("checked", check_docs(path, progress=ticks.append, **kw)))
    except CorpusError as e:
        out.append(("check failed", str(e)))
    out.append(("ticks", sum(ticks) if out[-1][0] == "checked" else None))
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(lines(), min_size=1, max_size=6),
    ends=st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=6, max_size=6),
    last_end=st.booleans(),
    gz=st.booleans(),
    chunk=st.sampled_from([1, 2, 3, 7, 64, 1 << 20]),
    fields=st.sampled_from([("title", "text"), ("text",), ("x", "title")]),
    id_field=st.sampled_from([None, "id", "x"]),
    bom=st.booleans(),
)
def test_native_and_python_readers_agree(
    tmp_path_factory: Any,
    body: list[bytes],
    ends: list[bytes],
    last_end: bool,
    gz: bool,
    chunk: int,
    fields: tuple[str, ...],
    id_field: str | None,
    bom: bool,
) -> None:
    data = b"".join(line + end for line, end in zip(body, ends))
    if not last_end:
        data = data[: -len(ends[len(body) - 1])]
    if bom:  # a byte-order mark starting the file, which both readers skip
        data = "\ufeff".encode() + data
    path = tmp_path_factory.mktemp("native") / ("c.jsonl.gz" if gz else "c.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    kw = {"text_fields": fields, "id_field": id_field}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(corpus_native, "_CHUNK", chunk)
        native = _read(path, **kw)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(corpus_read, "_JsonlReader", None)
        python = _read(path, **kw)
    assert native == python


def test_plain_records_take_the_fast_path_whole(tmp_path: Path) -> None:
    data = "".join(
        json.dumps({"_id": f"d{i}", "title": "T" * (i % 2), "text": f"text {i} é"}) + "\n"
        for i in range(1000)
    ).encode()
    reader = JsonlReader([("title", False), ("text", True)], ["_id", "id"], True)
    docs, end, line, declined = reader.parse(data, 0, 1, True)
    assert (len(docs), end, line, declined) == (1000, len(data), 1001, None)
    assert docs[1] == ("d1", "T text 1 é", 2)
    ids, texts, *rest = reader.parse_columns(data, 0, 1, True)
    assert (ids, texts, rest) == ([d[0] for d in docs], [d[1] for d in docs], [end, line, None])


def test_a_file_of_declined_lines_is_read_line_by_line(tmp_path: Path) -> None:
    # NaN is not JSON to the native parser, so it leaves every line to Python
    path = tmp_path / "c.jsonl"
    path.write_text("".join(f'{{"id": {i}, "text": "t", "score": NaN}}\n' for i in range(3000)))
    docs = list(read_docs(path))
    assert [d.id for d in docs] == [str(i) for i in range(3000)]
    assert [d.line for d in docs[:2]] == [1, 2]
    assert math.isnan(json.loads(path.read_text().splitlines()[0])["score"])


def test_a_buffer_start_past_its_end_is_a_value_error() -> None:
    reader = JsonlReader([("text", True)], ["id"], True)
    with pytest.raises(ValueError, match="start 5 is past the end of the buffer"):
        reader.parse(b"{}", 5, 1, True)


def test_a_truncated_gzip_is_reported_by_name(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "a"}\n' * 1000)[:-20])
    with pytest.raises(CorpusError, match=r"c\.jsonl\.gz: cannot read"):
        list(read_docs(path))
