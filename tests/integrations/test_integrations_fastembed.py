"""bm25x.integrations.fastembed: the drop-in gives fastembed's own vectors element by element
(indices in order, dtypes, values), the server's for "qdrant/bm25", and runs fastembed scripts
unchanged after the import swap."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import require
from support.strategies import WORDS, examples, text_lists, texts

import bm25x
from bm25x import _native
from bm25x.integrations import fastembed as drop_in

require("fastembed")
import fastembed
from support.fastembed_oracle import LANGUAGES, build_model_dir, oracle

# The fastembed-flavour tables of Python's `\w` come from one Unicode version (see
# test_exactness_fastembed); under another Python, differences there are by design.
pytestmark = pytest.mark.skipif(
    unicodedata.unidata_version != _native.PYTHON_WORD_UNICODE_VERSION,
    reason="Python's Unicode version differs from bm25x's fastembed-flavour tables",
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("fastembed-Qdrant-bm25"))


def assert_same(got: Any, want: Any, context: object) -> None:
    """Element by element: the same type of arrays, dtypes, order and values."""
    assert isinstance(got, drop_in.SparseEmbedding), context
    assert got.indices.dtype == want.indices.dtype, context
    assert got.values.dtype == want.values.dtype, context
    assert got.indices.tolist() == want.indices.tolist(), context
    assert got.values.tolist() == want.values.tolist(), context
    assert got.as_dict() == want.as_dict(), context


fastembed_options = st.fixed_dictionaries(
    {},
    optional={
        "k": st.sampled_from([0.0, 0.5, 1.2, 2, 3.7]),
        "b": st.sampled_from([0.0, 0.3, 0.75, 1, 1.0]),
        "avg_len": st.sampled_from([1.0, 7, 100.5, 256.0]),
        "language": st.sampled_from(LANGUAGES),
        "token_max_length": st.sampled_from([1, 5, 40, 200]),
        "disable_stemmer": st.booleans(),
        "stopwords": st.sets(st.sampled_from(["the", "The", "and", "cookies", "ΟΔΟΣ", "un"])),
    },
)


@settings(max_examples=examples(60))
@given(options=fastembed_options, docs=text_lists(max_size=6), data=st.data())
def test_fastembed_model_equals_fastembed(
    model_dir: Path, options: dict[str, Any], docs: list[str], data: st.DataObject
) -> None:
    want_model = oracle(model_dir, options)
    got_model = drop_in.SparseTextEmbedding("Qdrant/bm25", **options)
    batch_size = data.draw(st.integers(1, 4))
    got_docs = got_model.embed(docs, batch_size=batch_size)
    assert not isinstance(got_docs, list)  # a generator, as in fastembed
    pairs = list(zip(list(got_docs), list(want_model.embed(docs))))
    assert len(pairs) == len(docs)
    for i, (got, want) in enumerate(pairs):
        assert_same(got, want, (options, docs[i]))
    pairs = list(zip(list(got_model.query_embed(docs)), list(want_model.query_embed(docs))))
    assert len(pairs) == len(docs)
    for i, (got, want) in enumerate(pairs):
        assert_same(got, want, (options, "query", docs[i]))
    for got, want in zip(got_model.passage_embed(docs), want_model.passage_embed(docs)):
        assert_same(got, want, (options, "passage"))
    assert got_model.token_count(docs) == want_model.token_count(docs)


def test_terms_sharing_an_id_keep_fastembeds_place_and_weight(model_dir: Path) -> None:
    # "hello" and "ccphujgn" hash to h and -h, one id after abs: the first term's place, the
    # later term's weight, as fastembed's dict assignments leave them.
    docs = [
        "zebra hello apple ccphujgn hello hello zebra",
        "ccphujgn hello ccphujgn",
        "",
        "the and",
        "hello " * 300 + "ccphujgn",
    ]
    got = list(drop_in.SparseTextEmbedding("Qdrant/bm25").embed(docs, batch_size=3))
    want = list(oracle(model_dir, {}).embed(docs))
    assert len(got) == len(want) == len(docs)
    for doc, g, w in zip(docs, got, want):
        assert_same(g, w, doc[:40])


def test_first_occurrence_layout_is_for_the_fastembed_flavour_only() -> None:
    with pytest.raises(ValueError, match="fastembed flavour only"):
        bm25x.Bm25()._native.encode_first_occurrence(["a"])
    native = bm25x.Bm25(flavor="fastembed")._native
    with pytest.raises(TypeError, match="item 1 must be str, got int"):
        native.encode_first_occurrence(["a", 3])
    with pytest.raises(TypeError, match="list or tuple of str"):
        native.encode_first_occurrence("abc")


@settings(max_examples=examples(30))
@given(text=texts(languages=("english", "german", "greek", "arabic")))
def test_single_string_and_sparse_text_embedding_wrapper(model_dir: Path, text: str) -> None:
    want_model = fastembed.SparseTextEmbedding("Qdrant/bm25", specific_model_path=str(model_dir))
    got_model = drop_in.SparseTextEmbedding(
        "Qdrant/bm25", specific_model_path=str(model_dir), local_files_only=True
    )
    (want,) = list(want_model.embed(text))
    (got,) = list(got_model.embed(text))
    assert_same(got, want, text)
    (want_q,) = list(want_model.query_embed(text))
    (got_q,) = list(got_model.query_embed(text))
    assert_same(got_q, want_q, text)


@st.composite
def texts_with_lone_surrogates(draw: st.DrawFn) -> str:
    """A text with 1 to 4 lone surrogates put anywhere: inside and between words, beside a
    final sigma or a combining mark, two in a row (a pair that is still two code points)."""
    text = draw(st.one_of(texts(), st.sampled_from(["ΟΔΟΣ", "ΑΣ x", "cafe\u0301", "a", ""])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        lone = draw(st.one_of(st.integers(0xD800, 0xDFFF).map(chr), st.just("\ud83d\ude00")))
        text = text[:at] + lone + text[at:]
    return text


@settings(max_examples=examples(60))
@given(options=fastembed_options, docs=st.lists(texts_with_lone_surrogates(), max_size=4))
def test_lone_surrogates_give_fastembeds_vectors(
    model_dir: Path, options: dict[str, Any], docs: list[str]
) -> None:
    """Issue 20 item 3: fastembed gives a vector for a text with a lone surrogate; the drop-in
    raised. Documents, queries, passages and the token count, element by element."""
    want_model = oracle(model_dir, options)
    got_model = drop_in.SparseTextEmbedding("Qdrant/bm25", **options)
    for got, want in zip(list(got_model.embed(docs)), list(want_model.embed(docs)), strict=True):
        assert_same(got, want, (options, docs))
    got_q, want_q = list(got_model.query_embed(docs)), list(want_model.query_embed(docs))
    for got, want in zip(got_q, want_q, strict=True):
        assert_same(got, want, (options, "query", docs))
    for got, want in zip(
        list(got_model.passage_embed(docs)), list(want_model.passage_embed(docs)), strict=True
    ):
        assert_same(got, want, (options, "passage", docs))
    assert got_model.token_count(docs) == want_model.token_count(docs)


def test_a_lone_surrogate_is_where_fastembed_splits(model_dir: Path) -> None:
    want_model = oracle(model_dir, {})
    got_model = drop_in.SparseTextEmbedding("Qdrant/bm25")
    for text, terms in [("a\ud800b", 1), ("bread\udfffrises", 2), ("\udc80", 0), ("ΟΔΟ\ud800Σ", 2)]:
        (got,), (want,) = list(got_model.embed(text)), list(want_model.embed(text))
        assert_same(got, want, text)
        assert len(got.indices) == terms, text
        assert got_model.token_count(text) == want_model.token_count(text)


def test_the_server_model_still_refuses_lone_surrogates() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        list(drop_in.SparseTextEmbedding("qdrant/bm25").embed("a\ud800b"))


BATCH_SIZES = [0, -1, 1, 2, 256, True, False, np.int64(2), np.int64(0), 2.5, None, "2"]


@pytest.mark.parametrize("method", ["embed", "passage_embed", "query_embed"])
@pytest.mark.parametrize("batch_size", BATCH_SIZES, ids=repr)
def test_batch_size_is_taken_as_fastembed_takes_it(
    model_dir: Path, method: str, batch_size: Any
) -> None:
    """Issue 20 item 3: fastembed's query_embed ignores batch_size (0 included); embed and
    passage_embed refuse one below 1 with a ValueError, a float with a ValueError, None or a
    str with a TypeError, each when the first vector is asked for."""
    docs = ["Baking bread at home", "", "The bread rises"]
    outcomes = []
    for model in (
        fastembed.SparseTextEmbedding("Qdrant/bm25", specific_model_path=str(model_dir)),
        drop_in.SparseTextEmbedding("Qdrant/bm25"),
    ):
        vectors = getattr(model, method)(docs, batch_size=batch_size)  # lazy in both
        try:
            outcomes.append(list(vectors))
        except (TypeError, ValueError) as e:
            outcomes.append(type(e))
    want, got = outcomes
    if isinstance(want, type):
        assert got is want
    else:
        assert isinstance(got, list) and len(got) == len(want) == len(docs)
        for g, w in zip(got, want):
            assert_same(g, w, (method, batch_size))


def test_batch_sizes_and_generators(model_dir: Path) -> None:
    docs = [" ".join(WORDS["english"][: i + 1]) for i in range(10)]
    want = list(oracle(model_dir, {}).embed(docs))
    model = drop_in.SparseTextEmbedding("Qdrant/bm25")
    for batch_size in (1, 3, 256):
        got = list(model.embed(iter(docs), batch_size=batch_size, parallel=2))
        assert len(got) == len(docs)
        for g, w in zip(got, want):
            assert_same(g, w, batch_size)


def test_server_model_equals_bm25x_server_flavour() -> None:
    docs = ["Recipe for baking chocolate chip cookies", "", "ΟΔΟΣ ΣΑΣ foo_bar " + "a" * 60]
    model = drop_in.SparseTextEmbedding("qdrant/bm25", k=1.5, language="german")
    enc = bm25x.Bm25(k=1.5, language="german")
    assert len(list(model.embed(docs))) == len(docs)
    for got, want in zip(model.embed(docs), enc.encode(docs)):
        assert got.indices.dtype == np.int64 and got.values.dtype == np.float64
        assert got.indices.tolist() == want.indices.tolist()
        assert got.values.astype(np.float32).tolist() == want.values.tolist()
    for got, want in zip(model.query_embed(docs), enc.encode_query(docs)):
        assert got.indices.tolist() == want.indices.tolist()
        assert got.values.tolist() == [1.0] * len(want)
    plain = drop_in.SparseTextEmbedding("qdrant/bm25", disable_stemmer=True, stopwords={"The"})
    (vec,) = plain.embed("The cookies")
    assert (
        vec.indices.tolist()
        == bm25x.Bm25(stemmer={"type": "none"}, stopwords={"languages": [], "custom": ["the"]})
        .encode("The cookies")
        .indices.tolist()
    )
    assert (
        drop_in.SparseTextEmbedding("qdrant/bm25", tokenizer="whitespace").model.config["tokenizer"]
        == "whitespace"
    )


def test_sparse_embedding_interface() -> None:
    emb = drop_in.SparseEmbedding(values=np.array([0.5, 1.0]), indices=np.array([7, 3]))
    assert emb.as_dict() == {7: 0.5, 3: 1.0}
    obj = emb.as_object()
    assert obj["values"] is emb.values and obj["indices"] is emb.indices
    empty = drop_in.SparseEmbedding.from_dict({})
    assert empty.indices.dtype == np.int64 and empty.values.dtype == np.float64
    again = drop_in.SparseEmbedding.from_dict({3: 2.0, 1: 1.0})
    assert again.indices.tolist() == [3, 1] and again.values.tolist() == [2.0, 1.0]


def test_list_supported_models_has_fastembeds_keys() -> None:
    ours = drop_in.SparseTextEmbedding.list_supported_models()
    theirs = [
        m
        for m in fastembed.SparseTextEmbedding.list_supported_models()
        if m["model"] == "Qdrant/bm25"
    ]
    assert [m["model"] for m in ours] == ["Qdrant/bm25", "qdrant/bm25"]
    assert all(set(m) == set(theirs[0]) for m in ours)
    assert all(m["requires_idf"] for m in ours)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="prithivida/Splade_PP_en_v1"):
        drop_in.SparseTextEmbedding("prithivida/Splade_PP_en_v1")
    with pytest.raises(TypeError, match="custom stemmer"):
        drop_in.SparseTextEmbedding("Qdrant/bm25", stemmer=object())
    with pytest.raises(bm25x.OptionError, match="tokenizer"):
        drop_in.SparseTextEmbedding("Qdrant/bm25", tokenizer="word")
    with pytest.raises(bm25x.OptionError, match="max_token_len"):
        drop_in.SparseTextEmbedding("qdrant/bm25", token_max_length=10)
    with pytest.raises(bm25x.OptionError, match="language"):
        drop_in.SparseTextEmbedding("Qdrant/bm25", language="klingon")
    model = drop_in.SparseTextEmbedding("Qdrant/bm25")
    with pytest.raises(ValueError, match="batch_size"):
        list(model.embed(["a"], batch_size=0))
    with pytest.raises(TypeError, match="str"):
        list(model.embed([b"bytes"]))  # type: ignore[list-item]


FASTEMBED_SCRIPT = """
from fastembed import SparseTextEmbedding, SparseEmbedding

model = SparseTextEmbedding(model_name="Qdrant/bm25", specific_model_path=MODEL_DIR, k=1.5)
documents = ["Baking bread at home", "Sourdough starter: flour and water", "The bread rises"]
embeddings: list[SparseEmbedding] = list(model.embed(documents, batch_size=2))
query = next(iter(model.query_embed("how does bread rise")))
result = {
    "docs": [e.as_object()["indices"].tolist() for e in embeddings],
    "values": [list(e.as_dict().values()) for e in embeddings],
    "query": sorted(query.indices.tolist()),
    "passages": [p.indices.tolist() for p in model.passage_embed(documents)],
    "names": [m["model"] for m in SparseTextEmbedding.list_supported_models()][:0],
}
"""


def test_a_fastembed_script_runs_unchanged_after_the_import_swap(model_dir: Path) -> None:
    swapped = FASTEMBED_SCRIPT.replace(
        "from fastembed import", "from bm25x.integrations.fastembed import"
    )
    assert swapped != FASTEMBED_SCRIPT
    results = []
    for source in (FASTEMBED_SCRIPT, swapped):
        namespace: dict[str, Any] = {"MODEL_DIR": str(model_dir)}
        exec(compile(source, "<script>", "exec"), namespace)
        results.append(namespace["result"])
    assert results[0] == results[1]
    assert results[0]["docs"] and all(results[0]["docs"])
