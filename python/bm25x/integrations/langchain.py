"""bm25x for LangChain's Qdrant integration (``pip install 'bm25x-sparse[langchain]'``).

    from langchain_qdrant import RetrievalMode
    from qdrant_client import QdrantClient
    from bm25x.integrations.langchain import Bm25SparseEmbeddings, vector_store

    store = vector_store(QdrantClient(":memory:"), "docs", sparse_embedding=Bm25SparseEmbeddings(),
                         retrieval_mode=RetrievalMode.SPARSE)
    store.add_texts(["Baking bread", "Sourdough starter"])
    store.similarity_search("bread", k=1)

:class:`Bm25SparseEmbeddings` is a ``langchain_qdrant.SparseEmbeddings``: documents are encoded
as BM25 documents, queries as BM25 queries. ``QdrantVectorStore`` creates its sparse vector
without the IDF modifier unless told; :func:`vector_store` creates the collection with it (or
warns, once, when an existing one lacks it), and :data:`SPARSE_VECTOR_PARAMS` is the
``sparse_vector_params`` to pass to ``QdrantVectorStore.from_texts`` / ``construct_instance``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bm25x.integrations._framework import encode_pairs, make_encoder, require
from bm25x.internals import IdfCheck

require("langchain_qdrant", "langchain", "langchain-qdrant")

from langchain_qdrant import QdrantVectorStore, RetrievalMode  # noqa: E402
from langchain_qdrant.sparse_embeddings import SparseEmbeddings, SparseVector  # noqa: E402
from qdrant_client import QdrantClient, models  # noqa: E402

__all__ = ["SPARSE_VECTOR_PARAMS", "Bm25SparseEmbeddings", "vector_store"]

SPARSE_VECTOR_PARAMS: dict[str, Any] = {"modifier": models.Modifier.IDF}
"""``sparse_vector_params`` for ``QdrantVectorStore.from_texts``: the IDF modifier BM25 needs."""


class Bm25SparseEmbeddings(SparseEmbeddings):  # type: ignore[misc]
    """BM25 sparse vectors from bm25x for ``langchain_qdrant.QdrantVectorStore``.

    Options are those of :class:`bm25x.Bm25` (``flavor``, ``k``, ``b``, ``avg_len``,
    ``language``, ...); ``threads`` the threads used for batches."""

    def __init__(self, *, threads: int | None = None, **options: Any) -> None:
        self.encoder = make_encoder(options, threads)
        self._idf = IdfCheck()

    def __repr__(self) -> str:
        return f"Bm25SparseEmbeddings({self.encoder!r})"

    def embed_documents(self, texts: list[str]) -> list[SparseVector]:
        """Encode documents."""
        indices, values = encode_pairs(self.encoder, list(texts), query=False)
        return [SparseVector(indices=i, values=v) for i, v in zip(indices, values)]

    def embed_query(self, text: str) -> SparseVector:
        """Encode a query: each distinct term id with weight 1."""
        (indices,), (values,) = encode_pairs(self.encoder, [text], query=True)
        return SparseVector(indices=indices, values=values)

    async def aembed_documents(self, texts: list[str]) -> list[SparseVector]:
        """:meth:`embed_documents` in a worker thread (the encoder releases the GIL)."""
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> SparseVector:
        """:meth:`embed_query` in a worker thread."""
        return await asyncio.to_thread(self.embed_query, text)

    def check_collection(
        self,
        client: QdrantClient,
        collection_name: str,
        sparse_vector_name: str = QdrantVectorStore.SPARSE_VECTOR_NAME,
    ) -> None:
        """Warn (:class:`bm25x.errors.MissingIdfWarning`, once per collection) when the sparse
        vector lacks the IDF modifier."""
        self._idf.check(client, collection_name, sparse_vector_name, stacklevel=3)


def vector_store(
    client: QdrantClient,
    collection_name: str,
    *,
    sparse_embedding: Bm25SparseEmbeddings | None = None,
    embedding: Any = None,
    retrieval_mode: RetrievalMode = RetrievalMode.SPARSE,
    vector_name: str = QdrantVectorStore.VECTOR_NAME,
    sparse_vector_name: str = QdrantVectorStore.SPARSE_VECTOR_NAME,
    distance: models.Distance = models.Distance.COSINE,
    **kwargs: Any,
) -> QdrantVectorStore:
    """A ``QdrantVectorStore`` on ``collection_name``, creating the collection when absent
    (sparse vector with the IDF modifier; for DENSE/HYBRID a dense vector of ``embedding``'s
    size) and warning once when an existing one's sparse vector lacks the modifier. Other
    keyword arguments go to ``QdrantVectorStore``."""
    sparse = sparse_embedding if sparse_embedding is not None else Bm25SparseEmbeddings()
    if client.collection_exists(collection_name):
        if retrieval_mode != RetrievalMode.DENSE:
            sparse.check_collection(client, collection_name, sparse_vector_name)
    else:
        dense: dict[str, models.VectorParams] = {}
        if retrieval_mode != RetrievalMode.SPARSE:
            if embedding is None:
                raise ValueError(f"retrieval_mode={retrieval_mode} needs a dense embedding=")
            size = len(embedding.embed_query("size probe"))
            dense[vector_name] = models.VectorParams(size=size, distance=distance)
        sparse_config = {}
        if retrieval_mode != RetrievalMode.DENSE:
            sparse_config[sparse_vector_name] = models.SparseVectorParams(**SPARSE_VECTOR_PARAMS)
        client.create_collection(
            collection_name, vectors_config=dense, sparse_vectors_config=sparse_config
        )
    return QdrantVectorStore(
        client=client,
        collection_name=collection_name,
        embedding=embedding,
        retrieval_mode=retrieval_mode,
        vector_name=vector_name,
        sparse_vector_name=sparse_vector_name,
        sparse_embedding=sparse,
        distance=distance,
        **kwargs,
    )
