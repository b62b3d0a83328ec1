"""``bm25x backfill``: give an existing collection a new vector from the text it already
stores, without uploading the data again.

    from bm25x.app.backfill import backfill

    report = backfill(url="http://localhost:6333", collection="docs",
                      vector="bm25", from_field="text", model="qdrant/bm25")
    print(report.summary())

The collection is on a Qdrant server or cluster (``url``/``api_key``/``collection``, or a
``QdrantClient`` as ``client``) or in an embedded Edge shard (``store``). Points are read with
``scroll`` in pages and written with ``update_vectors`` (only the named vector changes),
encoding pipelined with the I/O; the run is resumable and records what it did in the
collection's metadata (:mod:`~bm25x.app.backfill.state`), so queries for the vector are
encoded the same way. See ``docs/guides/backfill.md``.

Modules: :mod:`~bm25x.app.backfill.run` (the run) and :mod:`~bm25x.app.backfill.pages`
(its pages), :mod:`~bm25x.app.backfill.model` (the model and the record),
:mod:`~bm25x.app.backfill.target` with :mod:`~bm25x.app.backfill.edge` and
:mod:`~bm25x.app.backfill.server` (the collections), :mod:`~bm25x.app.backfill.fields` (the
text of a point), :mod:`~bm25x.app.backfill.state` (metadata keys and checkpoints),
:mod:`~bm25x.app.backfill.report`, :mod:`~bm25x.app.backfill.verify`,
:mod:`~bm25x.app.backfill.split` (parts for several processes),
:mod:`~bm25x.app.backfill.copy` (``--to``), :mod:`~bm25x.app.backfill.search`,
:mod:`~bm25x.app.backfill.edge_filter`, :mod:`~bm25x.app.backfill.cli` (the command) and
:mod:`~bm25x.app.backfill.errors`.
"""

from __future__ import annotations

from bm25x.app.backfill.errors import BackfillError, CannotAddVector, FieldError, VerifyError
from bm25x.app.backfill.fields import Problem
from bm25x.app.backfill.report import BackfillReport, VerifyResult
from bm25x.app.backfill.run import IdRange, backfill, open_target
from bm25x.app.backfill.split import split_ids

__all__ = [
    "BackfillError",
    "BackfillReport",
    "CannotAddVector",
    "FieldError",
    "IdRange",
    "Problem",
    "VerifyError",
    "VerifyResult",
    "backfill",
    "open_target",
    "split_ids",
]
