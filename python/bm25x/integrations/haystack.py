"""bm25x components for Haystack's Qdrant integration (``pip install 'bm25x-sparse[haystack]'``).

    from haystack_integrations.document_stores.qdrant import QdrantDocumentStore
    from bm25x.integrations.haystack import Bm25SparseDocumentEmbedder, Bm25SparseTextEmbedder

    store = QdrantDocumentStore(":memory:", use_sparse_embeddings=True, sparse_idf=True)
    store.write_documents(Bm25SparseDocumentEmbedder().run(documents)["documents"])
    QdrantSparseEmbeddingRetriever(store).run(
        query_sparse_embedding=Bm25SparseTextEmbedder().run("query")["sparse_embedding"])

The document embedder encodes documents as BM25 documents and the text embedder encodes the
query as a BM25 query (Haystack's fastembed components embed both the same way). Both take
:class:`bm25x.Bm25`'s options as keyword arguments. ``QdrantDocumentStore`` creates its
sparse vector without the IDF modifier unless ``sparse_idf=True``: give either component the
store (``document_store=``) and it warns once (:class:`bm25x.errors.MissingIdfWarning`) when
the store lacks it.
"""

import dataclasses
from typing import Any

from bm25x import Bm25
from bm25x.integrations._framework import encode_pairs, make_encoder, require
from bm25x.internals import IdfCheck

require("haystack_integrations.document_stores.qdrant", "haystack", "qdrant-haystack")

from haystack import Document, component, default_from_dict, default_to_dict  # noqa: E402
from haystack.dataclasses import SparseEmbedding  # noqa: E402
from haystack_integrations.document_stores.qdrant import QdrantDocumentStore  # noqa: E402

__all__ = ["Bm25SparseDocumentEmbedder", "Bm25SparseTextEmbedder"]

_IDF = IdfCheck()
_SPARSE_VECTOR_NAME = "text-sparse"


class _Base:
    """Options, the encoder and the store check shared by both components."""

    def __init__(
        self,
        threads: int | None,
        document_store: QdrantDocumentStore | None,
        options: dict[str, Any],
    ) -> None:
        self.options = dict(options)
        self.threads = threads
        self.document_store = document_store
        self._encoder: Bm25 | None = None
        make_encoder(self.options, threads)  # bad options fail here, not at run time

    def warm_up(self) -> None:
        """Build the encoder (nothing is downloaded) and check the store's IDF setting."""
        if self._encoder is None:
            self._encoder = make_encoder(self.options, self.threads)
        store = self.document_store
        if store is not None:
            idf = bool(getattr(store, "sparse_idf", False))
            _IDF.flag(str(getattr(store, "index", "")), _SPARSE_VECTOR_NAME, idf, stacklevel=3)

    @property
    def encoder(self) -> Bm25:
        """The encoder (built by :meth:`warm_up`, or on first use)."""
        if self._encoder is None:
            self.warm_up()
        assert self._encoder is not None
        return self._encoder

    def _serialized(self, **extra: Any) -> dict[str, Any]:
        store = self.document_store.to_dict() if self.document_store is not None else None
        data: dict[str, Any] = default_to_dict(
            self, threads=self.threads, document_store=store, **extra, **self.options
        )
        return data

    @staticmethod
    def _store_from(data: dict[str, Any]) -> dict[str, Any]:
        params = data.get("init_parameters", {})
        if params.get("document_store") is not None:
            params["document_store"] = QdrantDocumentStore.from_dict(params["document_store"])
        return data


def _sparse(indices: list[int], values: list[float]) -> SparseEmbedding:
    return SparseEmbedding(indices=indices, values=values)


@component
class Bm25SparseDocumentEmbedder(_Base):
    """Sets each document's ``sparse_embedding`` to its BM25 document vector.

    ``meta_fields_to_embed`` are prepended to the content, joined by ``embedding_separator``
    (as in Haystack's embedders); other keyword arguments are :class:`bm25x.Bm25`'s options."""

    def __init__(
        self,
        *,
        meta_fields_to_embed: list[str] | None = None,
        embedding_separator: str = "\n",
        threads: int | None = None,
        document_store: QdrantDocumentStore | None = None,
        **options: Any,
    ) -> None:
        _Base.__init__(self, threads, document_store, options)  # @component rebuilds the class
        self.meta_fields_to_embed = list(meta_fields_to_embed or [])
        self.embedding_separator = embedding_separator

    def to_dict(self) -> dict[str, Any]:
        """Serialize (Haystack pipelines)."""
        return self._serialized(
            meta_fields_to_embed=self.meta_fields_to_embed,
            embedding_separator=self.embedding_separator,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Bm25SparseDocumentEmbedder":
        """Deserialize."""
        return default_from_dict(cls, cls._store_from(data))  # type: ignore[no-any-return]

    def _text(self, position: int, doc: Any) -> str:
        if not isinstance(doc, Document):
            raise TypeError(
                f"documents[{position}] is a {type(doc).__name__}, not a haystack Document; "
                "use Bm25SparseTextEmbedder for strings"
            )
        meta = doc.meta or {}
        parts = [str(meta[k]) for k in self.meta_fields_to_embed if meta.get(k) is not None]
        return self.embedding_separator.join([*parts, doc.content or ""])

    @component.output_types(documents=list[Document])  # type: ignore[untyped-decorator]
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        """New documents (the inputs are not changed) carrying BM25 sparse embeddings."""
        if not isinstance(documents, list):
            raise TypeError(
                f"documents must be a list of haystack Documents, got {type(documents).__name__}"
            )
        texts = [self._text(i, d) for i, d in enumerate(documents)]
        indices, values = encode_pairs(self.encoder, texts, query=False)
        out = [
            dataclasses.replace(doc, sparse_embedding=_sparse(i, v))
            for doc, i, v in zip(documents, indices, values)
        ]
        return {"documents": out}


@component
class Bm25SparseTextEmbedder(_Base):
    """Encodes a query text as a BM25 query (each distinct term id with weight 1). Keyword
    arguments are :class:`bm25x.Bm25`'s options."""

    def __init__(
        self,
        *,
        threads: int | None = None,
        document_store: QdrantDocumentStore | None = None,
        **options: Any,
    ) -> None:
        _Base.__init__(self, threads, document_store, options)  # @component rebuilds the class

    def to_dict(self) -> dict[str, Any]:
        """Serialize (Haystack pipelines)."""
        return self._serialized()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Bm25SparseTextEmbedder":
        """Deserialize."""
        return default_from_dict(cls, cls._store_from(data))  # type: ignore[no-any-return]

    @component.output_types(sparse_embedding=SparseEmbedding)  # type: ignore[untyped-decorator]
    def run(self, text: str) -> dict[str, SparseEmbedding]:
        """The query's sparse embedding."""
        if not isinstance(text, str):
            raise TypeError(
                f"Bm25SparseTextEmbedder takes one str, got {type(text).__name__}; "
                "use Bm25SparseDocumentEmbedder for documents"
            )
        (indices,), (values,) = encode_pairs(self.encoder, [text], query=True)
        return {"sparse_embedding": _sparse(indices, values)}
