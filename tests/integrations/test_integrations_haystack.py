"""bm25x.integrations.haystack: the sparse embedder components with qdrant-haystack's
QdrantDocumentStore(":memory:", use_sparse_embeddings=True, sparse_idf=True) and its sparse
retriever rank as querying with bm25x vectors directly."""

from __future__ import annotations

import warnings

import pytest
from support import require

require("haystack_integrations.document_stores.qdrant")
from haystack import Document, Pipeline
from haystack_integrations.components.retrievers.qdrant import QdrantSparseEmbeddingRetriever
from haystack_integrations.document_stores.qdrant import QdrantDocumentStore
from qdrant_client import models

import bm25x
from bm25x.errors import MissingIdfWarning
from bm25x.integrations.haystack import Bm25SparseDocumentEmbedder, Bm25SparseTextEmbedder

DOCS = [
    "Volcanoes erupt when magma rises through the crust",
    "Python generators yield values lazily",
    "Tuning a guitar by ear with harmonics",
    "Coral reefs bleach when the ocean warms",
    "Magma chambers feed volcanic eruptions for years",
]
QUERIES = ["how do volcanoes erupt", "python generators", "ocean coral"]


def store(**kwargs: object) -> QdrantDocumentStore:
    return QdrantDocumentStore(":memory:", use_sparse_embeddings=True, **kwargs)  # type: ignore[arg-type]


def test_components_encode_documents_and_queries_apart() -> None:
    docs = [Document(id=str(i), content=t, meta={"title": "T"}) for i, t in enumerate(DOCS[:2])]
    embedder = Bm25SparseDocumentEmbedder(k=1.5, meta_fields_to_embed=["title"])
    embedder.warm_up()
    out = embedder.run(docs)["documents"]
    assert all(d.sparse_embedding is None for d in docs)  # inputs untouched
    want = bm25x.Bm25(k=1.5).encode(["T\n" + t for t in DOCS[:2]])
    assert [d.sparse_embedding.indices for d in out] == [v.indices.tolist() for v in want]
    assert [d.sparse_embedding.values for d in out] == [v.values.tolist() for v in want]
    q = Bm25SparseTextEmbedder().run("volcanoes volcanoes the")["sparse_embedding"]
    assert q.indices == bm25x.Bm25().encode_query("volcanoes").indices.tolist()
    assert q.values == [1.0]


def test_sparse_retrieval_ranks_as_bm25x_directly() -> None:
    ds = store(sparse_idf=True)
    embedder = Bm25SparseDocumentEmbedder(document_store=ds)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        embedder.warm_up()  # sparse_idf=True: no warning
    docs = [Document(id=str(i), content=t) for i, t in enumerate(DOCS)]
    ds.write_documents(embedder.run(docs)["documents"])
    info = ds._client.get_collection(ds.index)  # type: ignore[union-attr]
    assert info.config.params.sparse_vectors["text-sparse"].modifier == models.Modifier.IDF

    pipeline = Pipeline()
    pipeline.add_component("embed", Bm25SparseTextEmbedder(document_store=ds))
    pipeline.add_component("retrieve", QdrantSparseEmbeddingRetriever(ds, top_k=3))
    pipeline.connect("embed.sparse_embedding", "retrieve.query_sparse_embedding")
    enc = bm25x.Bm25()
    for query in QUERIES:
        got = pipeline.run({"embed": {"text": query}})["retrieve"]["documents"]
        q = enc.encode_query(query)
        want = ds._client.query_points(  # type: ignore[union-attr]
            ds.index,
            query=models.SparseVector(indices=q.indices.tolist(), values=q.values.tolist()),
            using="text-sparse",
            limit=3,
            with_payload=True,
        ).points
        assert [(d.content, d.score) for d in got] == [
            (p.payload["content"], p.score) for p in want
        ]
        assert got[0].content in DOCS


def test_serialization_round_trip() -> None:
    embedder = Bm25SparseDocumentEmbedder(k=1.1, language="german", meta_fields_to_embed=["a"])
    again = Bm25SparseDocumentEmbedder.from_dict(embedder.to_dict())
    assert again.options == {"k": 1.1, "language": "german"}
    assert again.meta_fields_to_embed == ["a"]
    text = Bm25SparseTextEmbedder(document_store=store(sparse_idf=True), k=2)
    back = Bm25SparseTextEmbedder.from_dict(text.to_dict())
    assert back.options == {"k": 2} and isinstance(back.document_store, QdrantDocumentStore)


def test_store_without_idf_warns_once() -> None:
    ds = store(index="plain")  # qdrant-haystack's default: sparse_idf=False
    with pytest.warns(MissingIdfWarning, match="'plain'"):
        Bm25SparseDocumentEmbedder(document_store=ds).warm_up()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Bm25SparseTextEmbedder(document_store=ds).warm_up()


def test_bad_input_is_named() -> None:
    with pytest.raises(bm25x.OptionError, match="avglen"):
        Bm25SparseTextEmbedder(avglen=3)
    with pytest.raises(TypeError, match=r"documents\[1\]"):
        Bm25SparseDocumentEmbedder().run([Document(content="a"), "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="one str"):
        Bm25SparseTextEmbedder().run(["a"])  # type: ignore[arg-type]
