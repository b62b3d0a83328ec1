"""Adapters that put bm25x where users already build BM25 vectors for Qdrant.

Each module is an application-layer adapter for one framework and imports that framework when
the module itself is imported (the bm25x library never imports this package):

- :mod:`bm25x.integrations.fastembed`: ``SparseTextEmbedding`` / ``SparseEmbedding``, a
  drop-in for fastembed's BM25 models that downloads nothing;
- :mod:`bm25x.integrations.langchain`: a ``langchain_qdrant.SparseEmbeddings`` and a helper
  that creates the collection with the IDF modifier (``pip install 'bm25x-sparse[langchain]'``);
- :mod:`bm25x.integrations.llama_index`: ``sparse_doc_fn`` / ``sparse_query_fn`` for
  llama-index's ``QdrantVectorStore`` (``pip install 'bm25x-sparse[llama-index]'``);
- :mod:`bm25x.integrations.haystack`: sparse document and text embedder components for
  qdrant-haystack (``pip install 'bm25x-sparse[haystack]'``).

Every adapter encodes documents as documents and queries as queries, takes the options of
:class:`bm25x.Bm25`, and warns once (:class:`bm25x.errors.MissingIdfWarning`) when the sparse
vector it writes to or reads from lacks Qdrant's IDF modifier, without which BM25 scores
degrade to term frequency.
"""
