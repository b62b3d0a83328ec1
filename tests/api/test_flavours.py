"""Where the two flavours differ, as executable documentation (reference spec, section 3).

bm25x's default flavour reproduces Qdrant's server-side ``qdrant/bm25``; ``flavor="fastembed"``
reproduces fastembed's ``Qdrant/bm25``. They agree on most English text but not on underscores,
long tokens, combining marks, ``İ``, empty stems and some stopwords. Each example below is
checked three ways: the terms each flavour produces, bm25x's server flavour against Qdrant's own
BM25 (qdrant-edge-py), and bm25x's fastembed flavour against fastembed's ``Bm25``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from support import require, require_dir
from support.strategies import REPO

import bm25x

require("qdrant_edge")
require("fastembed")

from support.fastembed_oracle import as_dict, assert_document, assert_query, build_model_dir, oracle
from support.qdrant_oracle import assert_same
from support.qdrant_oracle import oracle as server_oracle

CORPORA = REPO.parent / "shared" / "corpora"
ARABIC = {"language": "arabic"}

# (what differs, text, options for both flavours, server terms, fastembed terms)
DIFFERENCES: list[tuple[str, str, dict[str, Any], list[str], list[str]]] = [
    (
        "underscore joins words in fastembed",
        "foo_bar baz",
        {},
        ["foo", "bar", "baz"],
        ["foo_bar", "baz"],
    ),
    ("identifiers stay whole in fastembed", "avg_len", {}, ["avg", "len"], ["avg_len"]),
    ("a lone _ is punctuation in fastembed; __ is a word", "_ __ a_b", {}, ["b"], ["__", "a_b"]),
    (
        "fastembed drops tokens over 40 chars",
        "a" * 41 + " short",
        {},
        ["a" * 41, "short"],
        ["short"],
    ),
    (
        "combining marks split words in fastembed (Devanagari)",
        "नमस्ते दुनिया",
        {},
        ["नमस", "ते", "दुनिया"],
        ["नमस", "त", "द", "न", "य"],
    ),
    (
        "combining marks split words in fastembed (Tamil)",
        "தமிழ் மொழி",
        {"language": "tamil"},
        ["தமிழ", "மொழி"],
        ["தம", "ழ", "ம", "ழ"],
    ),
    ("combining marks (Thai)", "มาทำงานกันเถอะ", {}, ["มาทำงานกันเถอะ"], ["มาทำงานก", "นเถอะ"]),
    ("combining marks (Hebrew points)", "שָׁלוֹם", {}, ["שָׁלוֹם"], ["ש", "לו", "ם"]),
    # The letters left between harakat are single-letter Arabic stopwords.
    ("Arabic harakat", "كَتَبَ الطالبُ", ARABIC, ["كتب", "طالب"], ["طالب"]),
    ("a fully vowelled word vanishes in fastembed", "مُدَرِّسٌ", ARABIC, ["مدرس"], []),
    ("circled letters are letters only on the server", "Ⓐⓑⓒ", {}, ["ⓐⓑⓒ"], []),
    (
        "İ lowercases to i + U+0307, which fastembed splits off",
        "İstanbul",
        {},
        ["i̇stanbul"],
        ["stanbul"],
    ),
    ("the server keeps an empty stem as ''", "ـ", ARABIC, [""], []),
    ("... which also counts in the document length", "كتاب ـ", ARABIC, ["كتاب", ""], ["كتاب"]),
    ("a stopword with harakat matches only on the server", "أبٌ", ARABIC, [], ["اب"]),
    # Final sigma depends on whether U+0295 is cased: Rust's Unicode says no, Python 3.11's yes.
    ("the two Unicode versions disagree", "ʕΣ", {}, ["ʕσ"], ["ʕς"]),
]

SAME = [
    "Recipe for baking chocolate chip cookies",
    "How to bake cookies? The cookies, THE COOKIES!",
    "don't can’t well-known e-mail",
    "x² ½ Ⅻ ٣٤ १२ 123",
    "今天是星期一 こんにちは",
    "straße STRASSE ẞ ﬁne café naïve",
    "ΟΔΟΣ ΣΟΦΟΣ σοφός",
    "zero\u200bwidth soft\u00adhyphen",
    "",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("fastembed-Qdrant-bm25"))


def check_both(model_dir: Path, text: str, options: dict[str, Any]) -> tuple[Any, Any]:
    """Each flavour against its own oracle; returns (server vector, fastembed vector)."""
    server = bm25x.Bm25(**options)
    ref = server_oracle(options)
    assert_same(server.encode(text), ref.embed_document(text), text)
    assert_same(server.encode_query(text), ref.embed_query(text), text)
    fast = bm25x.Bm25(flavor="fastembed", **options)
    fe = oracle(model_dir, options)
    assert_document(fast.encode(text), next(iter(fe.embed([text]))), text)
    assert_query(fast.encode_query(text), next(iter(fe.query_embed(text))), text)
    return server.encode(text), fast.encode(text)


@pytest.mark.parametrize(
    ("what", "text", "options", "server_terms", "fastembed_terms"),
    DIFFERENCES,
    ids=[d[0] for d in DIFFERENCES],
)
def test_flavours_differ(
    model_dir: Path,
    what: str,
    text: str,
    options: dict[str, Any],
    server_terms: list[str],
    fastembed_terms: list[str],
) -> None:
    assert bm25x.Bm25(**options).terms(text) == server_terms
    assert bm25x.Bm25(flavor="fastembed", **options).terms(text) == fastembed_terms
    server, fast = check_both(model_dir, text, options)
    assert server.to_dict() != fast.to_dict(), what


@pytest.mark.parametrize("text", SAME)
def test_flavours_agree_on_plain_text(model_dir: Path, text: str) -> None:
    server, fast = check_both(model_dir, text, {})
    assert server.indices.tolist() == fast.indices.tolist()
    assert server.values.tolist() == fast.values.tolist()


def test_published_ids_of_the_spec() -> None:
    """Ids quoted in the spec: `İstanbul` (server 1467803446, fastembed `stanbul` 1304640163),
    the Arabic empty stem (server id 0) and `أبٌ` (fastembed 1274278930)."""
    assert bm25x.Bm25().encode("İstanbul").indices.tolist() == [1467803446]
    assert bm25x.Bm25(flavor="fastembed").encode("İstanbul").indices.tolist() == [1304640163]
    assert bm25x.Bm25(**ARABIC).encode("ـ").to_dict() == {0: pytest.approx(1.6877434)}
    fast = bm25x.Bm25(flavor="fastembed", **ARABIC)
    assert fast.encode("أبٌ").indices.tolist() == [1274278930]


def test_fastembed_output_order_is_normalised(model_dir: Path) -> None:
    """fastembed returns indices in first-occurrence order (queries: Python set order) and
    float64 values (queries: integer ones); bm25x returns both flavours sorted, in float32."""
    text = "Recipe for baking chocolate chip cookies"
    fe = next(iter(oracle(model_dir, {}).embed([text])))
    assert fe.indices.tolist() == [1617337648, 662344706, 177304315, 771857363, 112174620]
    fast = bm25x.Bm25(flavor="fastembed").encode(text)
    assert fast.indices.tolist() == sorted(fe.indices.tolist())
    assert str(fe.values.dtype) == "float64" and str(fast.values.dtype) == "float32"


@pytest.mark.parametrize(
    ("options", "server_ok"),
    [
        ({"language": "en"}, True),  # ISO codes: server only
        ({"language": "chinese"}, True),  # stopwords without a stemmer: server only
        ({"language": "English"}, False),  # names are case-sensitive in both
    ],
)
def test_language_names(options: dict[str, Any], server_ok: bool) -> None:
    if server_ok:
        bm25x.Bm25(**options)
    else:
        with pytest.raises(bm25x.OptionError):
            bm25x.Bm25(**options)
    with pytest.raises(bm25x.OptionError, match="language"):
        bm25x.Bm25(flavor="fastembed", **options)


def test_each_flavour_names_the_other_flavours_options() -> None:
    with pytest.raises(bm25x.OptionError, match='flavor="qdrant"'):
        bm25x.Bm25(flavor="fastembed", tokenizer="word")
    with pytest.raises(bm25x.OptionError, match='flavor="fastembed"'):
        bm25x.Bm25(token_max_length=40)


def _corpus(path: Path, fields: tuple[str, ...]) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [" ".join(json.loads(line).get(k) or "" for k in fields) for line in f]


@require_dir(CORPORA, "../shared/corpora")
@pytest.mark.parametrize(
    ("name", "fields", "total", "differing"),
    [
        ("pydocs.jsonl.gz", ("text",), 9416, 3667),
        ("scifact/corpus.jsonl.gz", ("title", "text"), 5183, 9),
    ],
)
def test_how_often_the_flavours_differ_on_real_text(
    name: str, fields: tuple[str, ...], total: int, differing: int
) -> None:
    """Technical text (identifiers with underscores) differs often; scientific prose rarely.
    `test_exactness_*` check each flavour against its reference on the same corpora."""
    docs = _corpus(CORPORA / name, fields)
    server = bm25x.Bm25().encode(docs, threads=2)
    fast = bm25x.Bm25(flavor="fastembed").encode(docs, threads=2)
    count = sum(as_dict(server[i]) != as_dict(fast[i]) for i in range(len(docs)))
    assert (len(docs), count) == (total, differing)
