"""bm25x for LlamaIndex's Qdrant vector store (``pip install 'bm25x-sparse[llama-index]'``).

    from qdrant_client import QdrantClient
    from bm25x.integrations.llama_index import vector_store

    store = vector_store("docs", client=QdrantClient(":memory:"))   # hybrid, IDF configured
    # VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(
    #     vector_store=store)).as_retriever(vector_store_query_mode="hybrid")

``QdrantVectorStore`` takes a document encoder and a query encoder (``sparse_doc_fn``,
``sparse_query_fn``; its ``SparseEncoderCallable``: a list of texts in, ``(indices per text,
values per text)`` out). :func:`sparse_encoders` gives bm25x's pair, documents encoded as
documents and queries as queries. The store gives its sparse vector the IDF modifier only for
fastembed model names it knows, so :data:`SPARSE_CONFIG` (its ``sparse_config``) sets it, and
:func:`vector_store` does all of this and warns once when an existing collection lacks it.
"""

from __future__ import annotations

from typing import Any

from bm25x import Bm25
from bm25x.integrations._framework import encode_pairs, make_encoder, require
from bm25x.internals import IdfCheck

require("llama_index.vector_stores.qdrant", "llama-index", "llama-index-vector-stores-qdrant")

from llama_index.vector_stores.qdrant import QdrantVectorStore  # noqa: E402
from qdrant_client import models  # noqa: E402

__all__ = ["SPARSE_CONFIG", "Bm25SparseEncoder", "check_store", "sparse_encoders", "vector_store"]

SPARSE_CONFIG = models.SparseVectorParams(modifier=models.Modifier.IDF)
"""``sparse_config`` for ``QdrantVectorStore``: the IDF modifier BM25 needs."""

BatchSparseEncoding = tuple[list[list[int]], list[list[float]]]


class Bm25SparseEncoder:
    """A ``SparseEncoderCallable``: ``encoder(texts) -> (indices per text, values per text)``.
    ``query=True`` encodes the texts as queries."""

    def __init__(self, encoder: Bm25, *, query: bool) -> None:
        self.encoder = encoder
        self.query = query

    def __repr__(self) -> str:
        kind = "queries" if self.query else "documents"
        return f"Bm25SparseEncoder({self.encoder!r}, {kind})"

    def __call__(self, texts: list[str]) -> BatchSparseEncoding:
        return encode_pairs(self.encoder, list(texts), self.query)


def sparse_encoders(
    *, threads: int | None = None, **options: Any
) -> tuple[Bm25SparseEncoder, Bm25SparseEncoder]:
    """``(sparse_doc_fn, sparse_query_fn)`` sharing one encoder with :class:`bm25x.Bm25`'s
    options."""
    enc = make_encoder(options, threads)
    return Bm25SparseEncoder(enc, query=False), Bm25SparseEncoder(enc, query=True)


_IDF = IdfCheck()


def vector_store(
    collection_name: str,
    *,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> QdrantVectorStore:
    """A hybrid ``QdrantVectorStore`` with bm25x's encoders and the IDF modifier. ``options``
    are :class:`bm25x.Bm25`'s; other keyword arguments (``client``, ``aclient``,
    ``dense_vector_name``, ...) go to ``QdrantVectorStore``. Warns
    (:class:`bm25x.errors.MissingIdfWarning`, once) when the collection exists and its sparse
    vector lacks the modifier."""
    doc_fn, query_fn = sparse_encoders(threads=threads, **(options or {}))
    kwargs.setdefault("sparse_config", SPARSE_CONFIG)
    store = QdrantVectorStore(
        collection_name,
        enable_hybrid=True,
        sparse_doc_fn=doc_fn,
        sparse_query_fn=query_fn,
        **kwargs,
    )
    check_store(store)
    return store


def check_store(store: QdrantVectorStore) -> None:
    """Warn once when the store's existing collection has a sparse vector without IDF."""
    client = getattr(store, "_client", None)
    name = store.sparse_vector_name
    if callable(name):  # a method in some releases
        name = name()
    if client is not None and client.collection_exists(store.collection_name):
        _IDF.check(client, store.collection_name, str(name), stacklevel=4)
