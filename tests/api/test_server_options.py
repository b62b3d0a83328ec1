"""Server mode (``bm25x._server_options``): options a Qdrant server accepts silently but reads
otherwise are encoded as the server encodes them, with one warning per distinct problem; the
direct API (``bm25x.Bm25``) still refuses them. The server's rules: ``support.server_rules``
and docs/exactness-server-options.md."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from support.qdrant_oracle import assert_same, oracle
from support.server_rules import LANGUAGE_SPELLINGS, accepted_options, server_language
from support.strategies import examples

import bm25x
from bm25x import _server_options
from bm25x._native import stopwords
from bm25x._server_options import server_options, translate
from bm25x.errors import ServerOptionWarning

# A text each language's stopwords and stemmer change: a few stopwords of every list, and
# words the stemmers shorten.
TEXT = " ".join(
    [
        "The Running cookies, die Häuser und les maisons, İstanbul straße Ⓐⓑⓒ",
        *(" ".join(stopwords(name)[:4]) for name in bm25x._native.languages()[0]),
    ]
)

# The issue's table: options sent with qdrant/bm25, what a v1.19.0 server stores (as strict
# options), and what the warning must say.
ROWS: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    (
        {"language": "German"},
        {"language": "none"},
        "`language: 'German'` is treated by Qdrant as 'none' (no stopwords, no stemmer); "
        "write 'german'",
    ),
    ({"language": "GERMAN"}, {"language": "none"}, "write 'german'"),
    ({"language": "English"}, {"language": "none"}, "write 'english'"),
    ({"language": "klingon"}, {"language": "none"}, "write 'none' to keep these vectors"),
    (
        {"avglen": 5},
        {},
        "`avglen: 5` is ignored by Qdrant (not one of its bm25 options); write 'avg_len'",
    ),
]


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    """Each test starts with no problem warned about yet."""
    _server_options._forget_warnings()
    yield
    _server_options._forget_warnings()


def quiet(options: Any) -> dict[str, Any]:
    """``server_options`` with its warnings ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ServerOptionWarning)
        return server_options(options)


def assert_server_vectors(options: dict[str, Any], server: dict[str, Any]) -> None:
    """Server mode on ``options`` encodes as Qdrant's BM25 with the strict ``server`` options."""
    enc = bm25x.Bm25(**quiet(options))
    ref = oracle(server)
    assert_same(enc.encode(TEXT), ref.embed_document(TEXT), options)
    assert_same(enc.encode_query(TEXT), ref.embed_query(TEXT), options)


@pytest.mark.parametrize(("options", "server", "says"), ROWS, ids=[repr(r[0]) for r in ROWS])
def test_each_row_encodes_as_the_server_and_warns(
    options: dict[str, Any], server: dict[str, Any], says: str
) -> None:
    with pytest.raises(bm25x.OptionError):  # the direct API still refuses it
        bm25x.Bm25(**options)
    with pytest.warns(ServerOptionWarning) as record:
        translated = server_options(options)
    (warning,) = record
    assert says in str(warning.message)
    assert warning.message.option == next(iter(options))  # type: ignore[union-attr]
    assert bm25x.Bm25(**translated) == bm25x.Bm25(**server)
    assert_server_vectors(options, server)


def test_an_iso_code_needs_no_translation() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert server_options({"language": "de"}) == {"language": "de"}
    assert bm25x.Bm25(language="de") == bm25x.Bm25(language="german")
    assert_server_vectors({"language": "de"}, {"language": "german"})


@pytest.mark.parametrize("spelling", LANGUAGE_SPELLINGS)
def test_every_language_spelling_reads_as_the_server_reads_it(spelling: str) -> None:
    server = server_language(spelling)
    exact = server == spelling
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        translated = server_options({"language": spelling})
    assert [type(w.message) for w in record] == ([] if exact else [ServerOptionWarning])
    assert translated == {"language": server}
    assert_server_vectors({"language": spelling}, {"language": server})
    if not exact:
        with pytest.raises(bm25x.OptionError, match="language"):
            bm25x.Bm25(language=spelling)


def test_a_language_advice_names_the_spelling_meant() -> None:
    cases = {"DE": "'german'", "Hi-En": "'hinglish'", "TA": "'tamil'", "germna": "'german'"}
    for spelling, meant in cases.items():
        (problem,) = translate({"language": spelling}).problems
        assert f"write {meant}" in problem.advice, (spelling, problem.advice)


# Forms serde accepts that bm25x's strict parser refuses: translated, warned about.
FORMS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"tokenizer": {"prefix": None}}, {"tokenizer": "prefix"}),
    ({"stopwords": {"german": None}}, {"stopwords": "german"}),
    ({"stopwords": {"English": None}}, {"stopwords": {}}),
    ({"stopwords": {"languages": ["de"], "extra": 1}}, {"stopwords": {"languages": ["de"]}}),
    ({"stopwords": {"languages": [{"fr": None}]}}, {"stopwords": {"languages": ["fr"]}}),
    (
        {"stopwords": [["de"], ["cookies"]]},
        {"stopwords": {"languages": ["de"], "custom": ["cookies"]}},
    ),
    ({"stopwords": []}, {"stopwords": {}}),
    ({"stemmer": ["snowball", "de"]}, {"stemmer": {"type": "snowball", "language": "de"}}),
    ({"stemmer": ["none"]}, {"stemmer": {"type": "none"}}),
    (
        {"stemmer": {"type": {"snowball": None}, "language": {"fr": None}}},
        {"stemmer": {"type": "snowball", "language": "fr"}},
    ),
    (
        {"stemmer": {"type": "snowball", "language": "de", "x": 1}},
        {"stemmer": {"type": "snowball", "language": "de"}},
    ),
    ({"stemmer": {"type": "none", "extra": 1}}, {"stemmer": {"type": "none"}}),
    ({"language": "germ\\u0061n"}, {"language": "german"}),
    ({"token_max_length": 3, "disable_stemmer": True}, {}),
]


@pytest.mark.parametrize(("options", "server"), FORMS, ids=[repr(f[0]) for f in FORMS])
def test_forms_the_server_accepts_are_translated(
    options: dict[str, Any], server: dict[str, Any]
) -> None:
    with pytest.raises((bm25x.OptionError, TypeError)):
        bm25x.Bm25(**options)
    translation = translate(options)
    assert translation.problems
    assert bm25x.Bm25(**translation.options) == bm25x.Bm25(**server)
    assert_server_vectors(options, server)


# What the server refuses (400 Invalid BM25 config): server mode refuses it too.
REFUSED: list[dict[str, Any]] = [
    {"k": None},
    {"b": None},
    {"avg_len": None},
    {"tokenizer": None},
    {"tokenizer": "Word"},
    {"tokenizer": {"word": 1}},
    {"language": 3},
    {"lowercase": "true"},
    {"min_token_len": 2.0},
    {"stopwords": "German"},
    {"stopwords": "none"},
    {"stopwords": {"languages": ["German"]}},
    {"stopwords": {"languages": "de"}},
    {"stopwords": {"custom": [None]}},
    {"stopwords": [["de"], [], 1]},
    {"stemmer": "none"},
    {"stemmer": {}},
    {"stemmer": {"type": "snowball"}},
    {"stemmer": {"type": "snowball", "language": "German"}},
    {"stemmer": {"type": "Snowball", "language": "de"}},
    {"stemmer": ["none", "x"]},
]


@pytest.mark.parametrize("options", REFUSED, ids=repr)
def test_what_the_server_refuses_is_refused(options: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused without a warning first
        with pytest.raises((bm25x.OptionError, TypeError)) as info:
            server_options(options)
    assert next(iter(options)) in str(info.value)


def test_nulls_the_server_refuses_say_to_leave_the_key_out() -> None:
    with pytest.raises(bm25x.OptionError, match='"k": null is refused by Qdrant'):
        server_options({"k": None})
    # Null where the server takes it as "not given".
    assert bm25x.Bm25(**quiet({"language": None, "stopwords": None})) == bm25x.Bm25()


def test_qdrant_client_models_and_enums_are_read_as_sent() -> None:
    from qdrant_client import models

    config = models.Bm25Config(
        language="German", stopwords=models.StopwordsSet(languages=[models.Language.FRENCH])
    )
    with pytest.warns(ServerOptionWarning, match="'German'"):
        translated = server_options(config)
    assert bm25x.Bm25(**translated) == bm25x.Bm25(language="none", stopwords={"languages": ["fr"]})


def test_bm25x_keys_pass_through() -> None:
    options = {"profile": "edge-0.9", "threads": 2, "tokenizer": "code", "flavor": "qdrant"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert server_options(options) == options


def test_each_distinct_problem_is_warned_about_once_per_process() -> None:
    with pytest.warns(ServerOptionWarning):
        server_options({"language": "German"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            server_options({"language": "German"})  # the same problem: silent
    with pytest.warns(ServerOptionWarning, match="'French'"):
        server_options({"language": "French", "k": 1})


def test_the_warnings_filter_makes_every_occurrence_an_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ServerOptionWarning)
        for _ in range(2):  # the second call must not slip through as "already warned"
            with pytest.raises(ServerOptionWarning):
                server_options({"language": "German"})


def test_strict_raises_an_option_error_naming_every_problem() -> None:
    with pytest.raises(bm25x.OptionError) as info:
        server_options({"language": "German", "avglen": 5}, strict=True)
    assert "'German'" in str(info.value) and "avglen" in str(info.value)
    assert "strict_options=True" in str(info.value)


def test_bad_values_are_refused_before_any_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(bm25x.OptionError, match='"b"'):
            server_options({"language": "German", "b": 2})


@settings(max_examples=examples(300))
@given(accepted_options())
def test_every_option_set_the_server_accepts_encodes_as_the_server(
    drawn: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    raw, meaning = drawn
    translation = translate(raw)  # never raises for what the server accepts
    enc = bm25x.Bm25(**translation.options)
    assert enc.config == bm25x.Bm25(**meaning).config, (raw, meaning, translation)
    assert enc.encode(TEXT) == bm25x.Bm25(**meaning).encode(TEXT)
    # A problem is reported exactly where the direct API refuses: for the whole set and for
    # each option alone.
    for options in [raw, *({key: value} for key, value in raw.items())]:
        problems = translate(options).problems
        try:
            strict = bm25x.Bm25(**options)
        except (bm25x.OptionError, TypeError):
            assert problems, options
        else:
            assert not problems, (options, problems)
            assert strict.config == bm25x.Bm25(**translate(options).options).config


def test_the_record_of_warned_problems_is_bounded() -> None:
    bound = _server_options._MAX_REMEMBERED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ServerOptionWarning)
        for i in range(bound + 10):
            server_options({f"unknown{i}": 1})
    assert len(_server_options._warned) == bound
    # The oldest were forgotten: warned about again; the newest were not.
    with pytest.warns(ServerOptionWarning, match="unknown0"):
        server_options({"unknown0": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        server_options({f"unknown{bound + 9}": 1})
