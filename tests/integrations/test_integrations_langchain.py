"""bm25x.integrations.langchain: Bm25SparseEmbeddings in langchain-qdrant's QdrantVectorStore
(SPARSE and HYBRID, embedded Qdrant) ranks as querying with bm25x vectors directly."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from support import require

require("langchain_qdrant")
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_qdrant import QdrantVectorStore, RetrievalMode
from qdrant_client import QdrantClient, models

import bm25x
from bm25x.errors import MissingIdfWarning
from bm25x.integrations.langchain import SPARSE_VECTOR_PARAMS, Bm25SparseEmbeddings, vector_store

DOCS = [
    "Volcanoes erupt when magma rises through the crust",
    "Python generators yield values lazily",
    "Tuning a guitar by ear with harmonics",
    "Coral reefs bleach when the ocean warms",
    "Magma chambers feed volcanic eruptions for years",
    "A generator expression in Python is lazy",
]
QUERIES = ["how do volcanoes erupt", "python generators", "guitar tuning", "ocean coral"]
SPARSE = QdrantVectorStore.SPARSE_VECTOR_NAME


def sparse_query(enc: bm25x.Bm25, text: str) -> models.SparseVector:
    v = enc.encode_query(text)
    return models.SparseVector(indices=v.indices.tolist(), values=v.values.tolist())


def test_embeddings_encode_documents_and_queries_apart() -> None:
    emb = Bm25SparseEmbeddings(k=1.5, language="english")
    enc = bm25x.Bm25(k=1.5, language="english")
    docs = emb.embed_documents(DOCS[:2])
    assert [d.indices for d in docs] == [v.indices.tolist() for v in enc.encode(DOCS[:2])]
    assert [d.values for d in docs] == [v.values.tolist() for v in enc.encode(DOCS[:2])]
    q = emb.embed_query("the the volcanoes volcanoes")
    assert q.indices == enc.encode_query("volcanoes").indices.tolist() and q.values == [1.0]
    assert asyncio.run(emb.aembed_query(QUERIES[0])) == emb.embed_query(QUERIES[0])
    assert asyncio.run(emb.aembed_documents(DOCS)) == emb.embed_documents(DOCS)


def test_sparse_mode_ranks_as_bm25x_directly() -> None:
    client = QdrantClient(":memory:")
    store = vector_store(client, "docs", sparse_embedding=Bm25SparseEmbeddings())
    params = client.get_collection("docs").config.params.sparse_vectors
    assert params is not None and params[SPARSE].modifier == models.Modifier.IDF
    store.add_texts(DOCS, ids=list(range(1, len(DOCS) + 1)))
    enc = bm25x.Bm25()
    for query in QUERIES:
        got = store.similarity_search_with_score(query, k=3)
        want = client.query_points(
            "docs", query=sparse_query(enc, query), using=SPARSE, limit=3, with_payload=True
        ).points
        assert [(d.metadata["_id"], s) for d, s in got] == [(p.id, p.score) for p in want]
        assert got and got[0][1] > 0


def test_hybrid_mode_ranks_as_bm25x_directly() -> None:
    dense = DeterministicFakeEmbedding(size=16)
    client = QdrantClient(":memory:")
    store = vector_store(
        client,
        "hybrid",
        embedding=dense,
        sparse_embedding=Bm25SparseEmbeddings(),
        retrieval_mode=RetrievalMode.HYBRID,
    )
    store.add_texts(DOCS, ids=list(range(1, len(DOCS) + 1)))
    enc = bm25x.Bm25()
    for query in QUERIES:
        got = store.similarity_search_with_score(query, k=3)
        want = client.query_points(
            "hybrid",
            prefetch=[
                models.Prefetch(query=dense.embed_query(query), using="", limit=3),
                models.Prefetch(query=sparse_query(enc, query), using=SPARSE, limit=3),
            ],
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            limit=3,
        ).points
        assert [(d.metadata["_id"], s) for d, s in got] == [(p.id, p.score) for p in want]


def test_from_texts_with_the_documented_params_gets_idf() -> None:
    store = QdrantVectorStore.from_texts(
        DOCS,
        location=":memory:",
        collection_name="ft",
        sparse_embedding=Bm25SparseEmbeddings(),
        retrieval_mode=RetrievalMode.SPARSE,
        sparse_vector_params=SPARSE_VECTOR_PARAMS,
    )
    params = store.client.get_collection("ft").config.params.sparse_vectors
    assert params is not None and params[SPARSE].modifier == models.Modifier.IDF


def test_existing_collection_without_idf_warns_once() -> None:
    client = QdrantClient(":memory:")
    client.create_collection(
        "plain", vectors_config={}, sparse_vectors_config={SPARSE: models.SparseVectorParams()}
    )
    emb = Bm25SparseEmbeddings()
    with pytest.warns(MissingIdfWarning, match="'plain'"):
        vector_store(client, "plain", sparse_embedding=emb)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vector_store(client, "plain", sparse_embedding=emb)


def test_bad_options_are_refused() -> None:
    with pytest.raises(bm25x.OptionError, match="avglen"):
        Bm25SparseEmbeddings(avglen=10)
    with pytest.raises(ValueError, match="dense embedding"):
        vector_store(QdrantClient(":memory:"), "x", retrieval_mode=RetrievalMode.HYBRID)
