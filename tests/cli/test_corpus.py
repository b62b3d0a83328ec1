"""Corpus reading is strict: a malformed CSV/TSV row, a null text or JSON nested past Python's
limit is an error naming the file, the line and the fix, never a merged, empty or missing
document, and never a traceback from the command."""

from __future__ import annotations

import argparse
import gzip
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bm25x.app.corpus.read as corpus_read
from bm25x.app.cli import main
from bm25x.app.corpus import CorpusError, check_docs, read_docs


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unclosed_quote_is_an_error_not_a_merged_document(tmp_path: Path) -> None:
    corpus = write(tmp_path / "c.tsv", 'id\ttext\n1\t"quoted start\n2\tsecond\n3\tthird\n')
    with pytest.raises(CorpusError, match=r"c\.tsv line 2: a quoted value .* never closed"):
        list(read_docs(corpus))


def test_text_after_a_closing_quote_is_an_error(tmp_path: Path) -> None:
    corpus = write(tmp_path / "c.csv", 'id,text\n1,ok\n2,"half" quoted\n')
    with pytest.raises(CorpusError, match=r"c\.csv line 3: bad CSV"):
        list(read_docs(corpus))


def test_quoted_values_may_span_lines_and_hold_delimiters(tmp_path: Path) -> None:
    corpus = write(tmp_path / "c.tsv", 'id\ttext\n1\t"two\nlines\twith a tab"\n2\t"say ""hi"""\n')
    assert [(d.id, d.text, d.line) for d in read_docs(corpus)] == [
        ("1", "two\nlines\twith a tab", 2),
        ("2", 'say "hi"', 4),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,text\n1,a\n2\n", "line 3: fewer columns than the header (1, the header has 2)"),
        ("id,text\n1,a,b\n", "line 2: more columns than the header (3, the header has 2)"),
    ],
)
def test_a_row_with_the_wrong_number_of_columns_is_an_error(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(CorpusError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(read_docs(write(tmp_path / "c.csv", content)))


def test_blank_lines_in_csv_are_skipped(tmp_path: Path) -> None:
    corpus = write(tmp_path / "c.csv", "id,text\n1,a\n\n2,b\n")
    assert [(d.id, d.line) for d in read_docs(corpus)] == [("1", 2), ("2", 4)]


def test_a_null_text_is_an_error_not_an_empty_document(tmp_path: Path) -> None:
    corpus = write(tmp_path / "c.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "b", "text": null}\n')
    with pytest.raises(CorpusError, match=r"c\.jsonl line 2: field 'text' is null"):
        list(read_docs(corpus))
    # A null title is simply absent; an explicit empty text stays an (intended) empty document.
    ok = write(tmp_path / "ok.jsonl", '{"_id": "a", "title": null, "text": ""}\n')
    assert [(d.id, d.text) for d in read_docs(ok)] == [("a", "")]


def test_a_null_in_every_chosen_text_field_is_an_error(tmp_path: Path) -> None:
    corpus = write(tmp_path / "c.jsonl", '{"_id": "a", "head": null, "body": null}\n')
    with pytest.raises(CorpusError, match="line 1: field 'head' is null"):
        list(read_docs(corpus, text_fields=("head", "body")))
    one = write(tmp_path / "one.jsonl", '{"_id": "a", "head": null, "body": "b"}\n')
    assert [d.text for d in read_docs(one, text_fields=("head", "body"))] == ["b"]


def test_deeply_nested_json_in_a_corpus_names_the_line(tmp_path: Path, capsys: Any) -> None:
    deep = '{"_id": "b", "text": "x", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    corpus = write(tmp_path / "c.jsonl", '{"_id": "a", "text": "x"}\n' + deep)
    status = main(["ingest", str(corpus), "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert status == 2
    assert "c.jsonl line 2: JSON nested too deeply" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_deeply_nested_option_values_are_one_line_errors(tmp_path: Path, capsys: Any) -> None:
    corpus = write(tmp_path / "c.jsonl", '{"_id": "a", "text": "x"}\n')
    deep = "[" * 100_000 + "]" * 100_000
    out = str(tmp_path / "o.npz")
    with pytest.raises(SystemExit) as exit_info:
        main(["encode", str(corpus), "-o", out, "-O", f"stopwords={deep}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "option 'stopwords': the JSON value is nested too deeply" in err
    status = main(["encode", str(corpus), "-o", out, "--options", '{"k": ' + deep + "}"])
    err = capsys.readouterr().err
    assert status == 2 and "--options: the JSON is nested too deeply" in err
    assert not Path(out).exists()


def test_argparse_is_what_reports_bad_option_syntax() -> None:
    from bm25x.app.cli.parser import parse_option

    with pytest.raises(argparse.ArgumentTypeError, match="expected KEY=VALUE"):
        parse_option("novalue")


# --- JSONL lines are parsed by orjson, and by json where orjson refuses or differs -------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_NESTED = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# What a record's reader looks at is its top-level fields: there any integer may appear. Nested
# values (never read) stay within 64 bits, where orjson and json agree on every value.
_RECORDS = st.dictionaries(
    st.text(), _NESTED | st.integers(min_value=-(2**80), max_value=2**80), max_size=6
)


@settings(max_examples=400, deadline=None)
@given(record=_RECORDS, ascii_only=st.booleans())
def test_records_parse_exactly_as_json_parses_them(record: Any, ascii_only: bool) -> None:
    import json

    from bm25x.app.corpus.jsonl import _loads

    line = json.dumps(record, ensure_ascii=ascii_only)
    # repr tells 1 from 1.0 and shows nan, so this is equality of value and type
    assert repr(_loads(line)) == repr(json.loads(line))


@pytest.mark.parametrize(
    "line",
    [
        '{"a": NaN, "b": -Infinity}',  # json accepts these, orjson does not
        '{"id": 123456789012345678901234567890}',  # beyond 64 bits: a float in orjson
        '{"id": -9223372036854775809, "text": "x"}',  # just below the 64-bit range
        '{"text": "\\ud800 lone"}',  # an escaped lone surrogate
        '{"a": 1, "a": 2}',  # a repeated key: the last one wins in both
        '{"text": "caf\\u00e9", "n": -0, "f": 1e400, "g": 0.1000000000000000055511151231257827}',
        "[1, 2]",
    ],
)
def test_lines_orjson_refuses_or_reads_otherwise_get_json_s_answer(line: str) -> None:
    import json

    from bm25x.app.corpus.jsonl import _loads

    assert repr(_loads(line)) == repr(json.loads(line))


def test_big_integer_ids_stay_integers(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": 123456789012345678901234567890, "text": "big id"}\n')
    assert [d.id for d in read_docs(corpus)] == ["123456789012345678901234567890"]


def test_invalid_json_keeps_json_s_message(tmp_path: Path) -> None:
    import json

    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "ok"}\n{"text": "unclosed\n', encoding="utf-8")
    try:
        json.loads('{"text": "unclosed\n')
    except json.JSONDecodeError as e:
        expected = f"line 2: not valid JSON ({e.msg} at column {e.colno})"
    with pytest.raises(CorpusError) as info:
        list(read_docs(corpus))
    assert expected in str(info.value)


def test_deep_nesting_is_still_the_recursion_error_message(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "x", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(CorpusError, match="nested too deeply"):
        list(read_docs(corpus))


def _spec_doc(record: dict[str, Any], n: int, fields: tuple[str, ...], id_field: str | None) -> Any:
    """What one record must read as, written plainly (the reader's hot loop is optimised):
    ``(id, text)`` or the error message's tail after ``line n: ``."""
    parts = []
    for field in fields:
        value = record.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            return f"field {field!r} must be a string, got {type(value).__name__}"
        if value:
            parts.append(value)
    wanted = ("text",) if fields == ("title", "text") else fields
    if not any(isinstance(record.get(f), str) for f in wanted):
        null = [f for f in wanted if f in record]
        if null:
            return f"field {null[0]!r} is null"
        return f"no text field {' or '.join(map(repr, wanted))}"
    if id_field is not None:
        if id_field not in record:
            return f"id field {id_field!r} is missing"
        key = record[id_field]
    else:
        key = next((record[f] for f in ("_id", "id") if f in record), n)
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        return f"the id must be a string or an integer, got {key!r}"
    if not str(key):
        return "the id is empty"
    return (str(key), " ".join(parts))


_VALUES = st.one_of(
    st.text(alphabet="ab é", max_size=3),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=1),
)
_RECORDS = st.dictionaries(st.sampled_from(["_id", "id", "title", "text", "body", "x"]), _VALUES)


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(_RECORDS, min_size=1, max_size=4),
    fields=st.sampled_from(
        [("title", "text"), ("text",), ("body", "title"), ("title", "text", "x")]
    ),
    id_field=st.sampled_from([None, "id", "x"]),
)
def test_every_record_reads_as_its_plain_spec(
    tmp_path_factory: Any,
    records: list[dict[str, Any]],
    fields: tuple[str, ...],
    id_field: str | None,
) -> None:
    import json

    path = tmp_path_factory.mktemp("spec") / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    expected = []
    for n, record in enumerate(records, 1):
        spec = _spec_doc(record, n, fields, id_field)
        expected.append(spec)
        if isinstance(spec, str):
            break
    got: list[Any] = []
    try:
        for doc in read_docs(path, text_fields=fields, id_field=id_field):
            got.append((doc.id, doc.text))
    except CorpusError as e:
        got.append(str(e).split(f"line {len(got) + 1}: ", 1)[1])
    assert [g if isinstance(g, tuple) else g[: len(e)] for g, e in zip(got, expected)] == expected
    assert len(got) == len(expected)


def test_an_id_with_a_lone_surrogate_is_an_error_before_any_write(tmp_path: Path) -> None:
    # it could be neither a point id (uuid5 of its UTF-8) nor a payload string
    corpus = write(
        tmp_path / "c.jsonl", '{"id": "a", "text": "x"}\n{"id": "b\\udc00", "text": "y"}\n'
    )
    with pytest.raises(CorpusError, match=r"line 2: the id holds a lone surrogate at index 1"):
        list(read_docs(corpus))
    from bm25x.app.corpus import check_docs

    with pytest.raises(CorpusError, match=r"line 2: the id holds a lone surrogate at index 1"):
        check_docs(corpus)


def test_parquet_rows_are_read_and_a_repeated_id_is_named_by_row(tmp_path: Path) -> None:
    from support import require

    require("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bm25x.app.corpus import check_docs

    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "a"], "text": ["x", "y", "z"]}), path)
    assert [tuple(d) for d in read_docs(path)][:2] == [("a", "x", 1), ("b", "y", 2)]
    with pytest.raises(CorpusError, match=r"c\.parquet row 3: id 'a' repeats row 1"):
        check_docs(path)


# -- a byte-order mark (Excel's "CSV UTF-8", some editors' JSONL) -------------------------------

BOM = "\ufeff"


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("c.csv", "id,text\nd1,cats purr\nd2,dogs bark\n"),
        ("c.tsv", "id\ttext\nd1\tcats purr\nd2\tdogs bark\n"),
        ("c.jsonl", '{"id": "d1", "text": "cats purr"}\n{"id": "d2", "text": "dogs bark"}\n'),
        ("c.jsonl.gz", '{"id": "d1", "text": "cats purr"}\n{"id": "d2", "text": "dogs bark"}\n'),
    ],
)
def test_a_byte_order_mark_at_the_start_is_skipped(
    tmp_path: Path, monkeypatch: Any, name: str, content: str, native: bool
) -> None:
    if not native:
        monkeypatch.setattr(corpus_read, "_JsonlReader", None)
    data = (BOM + content).encode("utf-8")
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    first = 2 if name.endswith("sv") else 1  # after the header
    docs = [(d.id, d.text, d.line) for d in read_docs(path)]
    assert docs == [("d1", "cats purr", first), ("d2", "dogs bark", first + 1)]
    assert check_docs(path) == 2


@pytest.mark.parametrize("native", [True, False])
def test_a_byte_order_mark_inside_a_jsonl_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: Any, native: bool
) -> None:
    if not native:
        monkeypatch.setattr(corpus_read, "_JsonlReader", None)
    # what `cat a.jsonl b.jsonl` gives when both were saved with a byte-order mark
    path = write(tmp_path / "c.jsonl", f'{BOM}{{"text": "a"}}\n{BOM}{{"text": "b"}}\n')
    message = r"c\.jsonl line 2: a byte-order mark \(U\+FEFF\) starts this line"
    with pytest.raises(CorpusError, match=message):
        list(read_docs(path))
    with pytest.raises(CorpusError, match=message):
        check_docs(path)


def test_encode_and_ingest_take_the_ids_of_a_csv_saved_by_excel(
    tmp_path: Path, capsys: Any
) -> None:
    corpus = tmp_path / "c.csv"
    corpus.write_bytes((BOM + "id,text\nd1,cats purr\nd2,dogs bark\n").encode("utf-8"))
    out = tmp_path / "v.npz"
    assert main(["encode", str(corpus), "-o", str(out), "-q"]) == 0
    data = np.load(out)
    blob, ends = data["id_utf8"].tobytes(), data["id_offsets"].tolist()
    assert [blob[a:b].decode() for a, b in pairwise(ends)] == ["d1", "d2"]
    store = str(tmp_path / "s")
    assert main(["ingest", str(corpus), "--store", store, "-q"]) == 0
    assert main(["search", "--store", store, "--json", "cats"]) == 0
    hits = json.loads(capsys.readouterr().out)[0]["hits"]
    assert [h["id"] for h in hits] == ["d1"]
