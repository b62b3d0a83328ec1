"""How a collection is laid out (its vector and payload names) and how documents become its
points and its points search hits (:class:`~bm25x.app.store.base.Hit`), alike for both backends."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from bm25x import SparseBatch
from bm25x.app.store.base import Dense, Hit
from bm25x.internals import (
    Failed,
    Later,
    Ready,
    Worker,
    native_fingerprints,
    native_point_keys_later,
    point_ids,
)

__all__ = [
    "DENSE",
    "FINGERPRINT",
    "RRF_K",
    "SPARSE",
    "Keys",
    "f32",
    "fingerprint",
    "fingerprints",
    "point_keys_later",
]

SPARSE = "bm25"
"""Name of the sparse vector in every collection bm25x creates."""
DENSE = "dense"
"""Name of the dense vector, when a dense model is configured."""
RRF_K = 2
"""Reciprocal rank fusion constant (Qdrant's default), set explicitly so both backends agree."""
FINGERPRINT = "bm25x_text"
"""Payload key of a document's text fingerprint (:func:`fingerprint`): a resumed ingest skips
a document only when its id and its text are both unchanged."""


def f32(score: float) -> float:
    """``score`` as float32, as the Python float whose ``repr`` is float32's shortest
    round-tripping text (``12.038683``, not ``12.03868293762207``).

    Qdrant scores are float32 whichever way they arrive: qdrant-edge widens them to float64
    (printing every binary digit), a server sends them as JSON text already shortened. Passing
    both through here makes the same score the same number, so both stores print alike.
    """
    return float(str(np.float32(score)))


def fingerprint(text: str) -> str:
    """A short, stable digest of a document's text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def fingerprints(texts: Sequence[str]) -> list[str]:
    """:func:`fingerprint` of each text, computed natively a batch at a time; a batch with a
    text that is not UTF-8 (a lone surrogate) goes through :func:`fingerprint`."""
    try:
        return native_fingerprints(texts)
    except ValueError:
        return [fingerprint(t) for t in texts]


Keys = tuple[list[str], list[str]]
"""A batch's point ids and the fingerprints of its texts."""


def point_keys_later(worker: Worker, doc_ids: Sequence[str], texts: Sequence[str]) -> Later[Keys]:
    """:func:`~bm25x.internals.point_ids` of ``doc_ids`` and :func:`fingerprints` of
    ``texts``, made by ``worker`` (a thread that never takes the GIL). What the native side
    refuses (a lone surrogate, an id that is not a str) gets the Python definitions' values,
    or their errors, from ``result()``."""
    try:
        pending: Later[Keys] = native_point_keys_later(worker, doc_ids, texts)
        return pending
    except (TypeError, ValueError):
        pass
    try:
        return Ready((point_ids(doc_ids), fingerprints(texts)))
    except (TypeError, ValueError) as e:
        return Failed(e)


def _fingerprints(records: Any) -> dict[str, str | None]:
    """``{doc_id: text fingerprint}`` of retrieved points (None for points written before
    fingerprints were recorded)."""
    out: dict[str, str | None] = {}
    for r in records:
        payload = r.payload or {}
        fp = payload.get(FINGERPRINT)
        out[str(payload["doc_id"])] = fp if isinstance(fp, str) else None
    return out


def _point_rows(
    doc_ids: Sequence[str],
    payloads: Sequence[dict[str, Any]],
    sparse: SparseBatch,
    dense: Dense | None,
    make_sparse: Callable[[list[int], list[float]], Any],
    ids: Sequence[str] | None = None,
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(point id, named vectors, payload)`` for each document, shared by both backends;
    ``make_sparse(indices, values)`` builds the backend's own sparse-vector type, and ``ids``
    are the point ids of ``doc_ids`` if the caller made them already. The batch's arrays
    become lists once and each vector is a slice of them (no per-vector numpy view)."""
    if not len(doc_ids) == len(payloads) == len(sparse) == len(doc_ids if ids is None else ids):
        raise ValueError(
            f"{len(doc_ids)} ids, {len(payloads)} payloads and {len(sparse)} vectors"
            + ("" if ids is None else f" and {len(ids)} point ids")
            + ": one of each per document"
        )
    ptr, ind, val = sparse.indptr.tolist(), sparse.indices.tolist(), sparse.values.tolist()
    if ids is None:
        ids = point_ids(doc_ids)
    for i, (doc_id, payload) in enumerate(zip(doc_ids, payloads)):
        a, b = ptr[i], ptr[i + 1]
        vector: dict[str, Any] = {SPARSE: make_sparse(ind[a:b], val[a:b])}
        if dense is not None:
            vector[DENSE] = dense[i].tolist()
        yield ids[i], vector, {"doc_id": doc_id, **payload}


def _hit(point: Any) -> Hit:
    payload = dict(point.payload or {})
    payload.pop(FINGERPRINT, None)
    return Hit(str(payload.pop("doc_id", point.id)), f32(point.score), payload)
