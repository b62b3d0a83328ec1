"""bm25x.integrations.llama_index: bm25x's sparse encoders in llama-index's QdrantVectorStore
(hybrid enabled, IDF configured), end to end on an embedded Qdrant with a mock dense model."""

from __future__ import annotations

import warnings

import pytest
from support import require

require("llama_index.vector_stores.qdrant")
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode
from qdrant_client import QdrantClient, models

import bm25x
from bm25x.errors import MissingIdfWarning
from bm25x.integrations.llama_index import sparse_encoders, vector_store

DOCS = [
    "Volcanoes erupt when magma rises through the crust",
    "Python generators yield values lazily",
    "Tuning a guitar by ear with harmonics",
    "Coral reefs bleach when the ocean warms",
    "Magma chambers feed volcanic eruptions for years",
]
QUERIES = ["how do volcanoes erupt", "python generators", "ocean coral"]
IDS = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(len(DOCS))]


def sparse_name(store: object) -> str:
    name = store.sparse_vector_name  # type: ignore[attr-defined]
    return str(name() if callable(name) else name)


def test_encoders_match_the_signature_and_bm25x() -> None:
    doc_fn, query_fn = sparse_encoders(k=1.5)
    indices, values = doc_fn(DOCS[:2])
    want = bm25x.Bm25(k=1.5).encode(DOCS[:2])
    assert indices == [v.indices.tolist() for v in want]
    assert values == [v.values.tolist() for v in want]
    q_indices, q_values = query_fn(["volcanoes volcanoes the"])
    assert q_indices == [bm25x.Bm25().encode_query("volcanoes").indices.tolist()]
    assert q_values == [[1.0]]


# llama-index creates a payload index for its doc ids; embedded Qdrant says it has no effect.
@pytest.mark.filterwarnings("ignore:Payload indexes have no effect in the local Qdrant")
def test_hybrid_store_end_to_end() -> None:
    client = QdrantClient(":memory:")
    store = vector_store("docs", client=client)
    embed = MockEmbedding(embed_dim=8)
    nodes = [TextNode(id_=i, text=t) for i, t in zip(IDS, DOCS)]
    index = VectorStoreIndex(
        nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed
    )
    params = client.get_collection("docs").config.params.sparse_vectors
    assert params is not None and params[sparse_name(store)].modifier == models.Modifier.IDF
    enc = bm25x.Bm25()
    for query in QUERIES:
        q = enc.encode_query(query)
        want = client.query_points(
            "docs",
            query=models.SparseVector(indices=q.indices.tolist(), values=q.values.tolist()),
            using=sparse_name(store),
            limit=2,
        ).points
        sparse = store.query(
            VectorStoreQuery(
                query_str=query,
                query_embedding=embed.get_query_embedding(query),
                similarity_top_k=2,
                mode=VectorStoreQueryMode.SPARSE,
            )
        )
        assert sparse.ids == [str(p.id) for p in want]
        # alpha=0 weighs the sparse side alone (the mock dense vectors are all alike), so the
        # hybrid ranking is the BM25 ranking
        retriever = index.as_retriever(
            vector_store_query_mode="hybrid", similarity_top_k=2, sparse_top_k=2, alpha=0.0
        )
        hits = retriever.retrieve(query)
        assert [h.node.node_id for h in hits][: len(want)] == [str(p.id) for p in want]


def test_existing_collection_without_idf_warns_once() -> None:
    client = QdrantClient(":memory:")
    client.create_collection(
        "plain",
        vectors_config={"text-dense": models.VectorParams(size=8, distance=models.Distance.COSINE)},
        sparse_vectors_config={"text-sparse-new": models.SparseVectorParams()},
    )
    with pytest.warns(MissingIdfWarning, match="'plain'"):
        vector_store("plain", client=client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vector_store("plain", client=client)


def test_bad_options_are_refused() -> None:
    with pytest.raises(bm25x.OptionError, match="avglen"):
        sparse_encoders(avglen=3)
