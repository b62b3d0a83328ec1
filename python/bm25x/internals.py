"""What bm25x's own application layer (the ``bm25x`` command, the service, backfill and the
framework adapters, in ``bm25x.app`` and ``bm25x.integrations``) uses of the library beyond its
public names: the one door from there into the library's private modules.

Not a stable API: names here may change in any release. Code outside bm25x should use the
public names of :mod:`bm25x`, :mod:`bm25x.errors`, :mod:`bm25x.qdrant` and
:mod:`bm25x.providers`.
"""

from __future__ import annotations

from bm25x._aio import fail_after, settle
from bm25x._idf import IdfCheck
from bm25x._ids import point_id, point_ids
from bm25x._later import Failed, Later, Ready, Worker, encode_later
from bm25x._native import JsonlReader, stopwords, upsert_json
from bm25x._native import fingerprints as native_fingerprints
from bm25x._native import point_keys_later as native_point_keys_later
from bm25x._options import KEY_SUFFIX, is_key_option, plain
from bm25x._secrets import MAX_KEY_BYTES, Secret, key_size, remember_secret
from bm25x._vector_records import record_key
from bm25x.providers._clients import new_session

__all__ = [
    "KEY_SUFFIX",
    "MAX_KEY_BYTES",
    "Failed",
    "IdfCheck",
    "JsonlReader",
    "Later",
    "Ready",
    "Secret",
    "Worker",
    "encode_later",
    "fail_after",
    "is_key_option",
    "key_size",
    "native_fingerprints",
    "native_point_keys_later",
    "new_session",
    "plain",
    "point_id",
    "point_ids",
    "record_key",
    "remember_secret",
    "settle",
    "stopwords",
    "upsert_json",
]
