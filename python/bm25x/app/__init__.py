"""The application layer of bm25x: programs built on the library.

- :mod:`bm25x.app.cli`: the ``bm25x`` command (encode, ingest, search, eval, bench, demo,
  serve), with what it needs beside it: :mod:`~bm25x.app.corpus` (reading corpus files),
  :mod:`~bm25x.app.store` and :mod:`~bm25x.app.lock` (Qdrant Edge shards and servers),
  :mod:`~bm25x.app.ingest`, :mod:`~bm25x.app.search`, :mod:`~bm25x.app.eval`,
  :mod:`~bm25x.app.bench`, :mod:`~bm25x.app.progress`, and ``data/`` (the demo's corpus);
- :mod:`bm25x.app.serve`: ``bm25x serve``, the inference service for self-hosted Qdrant.

The framework adapters (:mod:`bm25x.integrations`) sit at this level too. The dependency points
one way: this package imports the library (the encoder, ``bm25x.embed``, the providers, the
errors); the library never imports this package (``tests/api/test_layering.py``).

The errors of the command's Python API are defined in :mod:`bm25x.app.errors` and exported
here: :class:`StoreError`, :class:`MissingCollection` and :class:`CorpusError`.
"""

from __future__ import annotations

from bm25x.app.errors import CorpusError, MissingCollection, StoreError

__all__ = ["CorpusError", "MissingCollection", "StoreError"]
