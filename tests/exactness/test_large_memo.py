"""Exactness once an encoder's memo is large. Past 65,536 memoised segments a segment is
memoised only on its second sighting, and the terms of segments seen once are counted for their
document alone (``rust/core/src/cache.rs``); the other exactness tests build a fresh encoder per
example, whose memo never gets there. Here one encoder per flavour and options first encodes
70,000 distinct words (documents and queries), then random texts, mixing words it has seen
once, twice and never, must give the oracles' vectors: Qdrant's (qdrant-edge) and fastembed's."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.fastembed_oracle import assert_document, assert_query, build_model_dir
from support.fastembed_oracle import oracle as fastembed_oracle
from support.qdrant_oracle import assert_same
from support.qdrant_oracle import oracle as qdrant_oracle
from support.strategies import examples, texts

import bm25x

FILL = 70_000  # distinct words: past the 65,536 segments from which the doorkeeper applies
OPTIONS = [
    ("qdrant", {}),
    ("qdrant", {"tokenizer": "prefix"}),
    ("qdrant", {"tokenizer": "whitespace", "language": "none"}),
    ("fastembed", {}),
]


def seen(i: int) -> str:
    return f"fill{i}x"


@cache
def filled(flavor: str, key: str) -> bm25x.Bm25:
    """The encoder for these options, its memos (documents, queries) on this thread filled."""
    options = _options(flavor, key)
    enc = bm25x.Bm25(flavor=flavor, threads=1, **options)
    words = [seen(i) for i in range(FILL)]
    docs = [" ".join(words[s : s + 100]) for s in range(0, FILL, 100)]
    enc.encode(docs)
    enc.encode_query(docs)
    return enc


def _options(flavor: str, key: str) -> dict[str, Any]:
    return next(o for f, o in OPTIONS if f == flavor and repr(sorted(o.items())) == key)


# "hello" and "ccphujgn" share an id: fastembed keeps the weight of the one that occurs first
# later; Qdrant's pick between them varies from call to call (a hash map's order), so the
# Qdrant flavour's texts leave the pair out.
COLLIDING = ["hello", "ccphujgn"]


def mixed_texts(flavor: str) -> st.SearchStrategy[str]:
    """Random text with words seen once in the filling, words seen here before, new words."""
    known = ["cats", "Cats", "cat", "running", "runs", "the"]
    word = st.one_of(
        st.integers(0, FILL - 1).map(seen),
        st.sampled_from(known + (COLLIDING if flavor == "fastembed" else [])),
        st.integers(0, 10**9).map(lambda n: f"new{n}"),
        texts(),
    )
    return st.lists(word, max_size=12).map(" ".join)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("fastembed-Qdrant-bm25"))


@pytest.mark.parametrize(("flavor", "options"), OPTIONS, ids=[f"{f}-{o}" for f, o in OPTIONS])
@settings(max_examples=examples(300))
@given(data=st.data())
def test_a_large_memo_gives_the_oracles_vectors(
    model_dir: Path, flavor: str, options: dict[str, Any], data: st.DataObject
) -> None:
    enc = filled(flavor, repr(sorted(options.items())))
    batch = data.draw(st.lists(mixed_texts(flavor), min_size=1, max_size=6), label="batch")
    got = enc.encode(batch)
    if flavor == "qdrant":
        ref = qdrant_oracle(options)
        for i, text in enumerate(batch):
            assert_same(got[i], ref.embed_document(text), (options, text))
            assert_same(enc.encode_query(text), ref.embed_query(text), (options, text))
        return
    ref = fastembed_oracle(model_dir, options)
    want = list(ref.embed(batch))
    for i, text in enumerate(batch):
        assert_document(got[i], want[i], (options, text))
        assert_query(enc.encode_query(text), next(iter(ref.query_embed(text))), (options, text))
