"""Reading corpora: JSONL (optionally gzipped), CSV and Parquet files of documents, and BEIR
folders (corpus, queries, qrels). Every problem is reported with the file and line.

The code is one module per job: :mod:`~bm25x.app.corpus.read` (documents read or checked),
:mod:`~bm25x.app.corpus.rules` (a record as a document), :mod:`~bm25x.app.corpus.files`
(opening a file), :mod:`~bm25x.app.corpus.rows` with :mod:`~bm25x.app.corpus.jsonl`,
:mod:`~bm25x.app.corpus.delimited` and :mod:`~bm25x.app.corpus.parquet` (records per format),
:mod:`~bm25x.app.corpus.native` (the native JSONL pass), :mod:`~bm25x.app.corpus.beir` (BEIR
folders).
"""

from __future__ import annotations

from bm25x.app.corpus.beir import Beir, load_beir
from bm25x.app.corpus.read import check_docs, read_batches, read_docs
from bm25x.app.corpus.rules import DEFAULT_TEXT_FIELDS, Columns, Doc
from bm25x.app.errors import CorpusError

__all__ = [
    "DEFAULT_TEXT_FIELDS",
    "Beir",
    "Columns",
    "CorpusError",
    "Doc",
    "check_docs",
    "load_beir",
    "read_batches",
    "read_docs",
]
