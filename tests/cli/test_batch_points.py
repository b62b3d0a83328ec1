"""Point ids and text fingerprints made natively a batch at a time are the Python definitions'
values, for every text; what the native side cannot take (a lone surrogate, a non-str id)
gets the Python definition's own answer."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bm25x._ids import point_id, point_ids
from bm25x._native import upsert_json
from bm25x.app.store import fingerprint, fingerprints, point_keys_later
from bm25x.internals import Worker

TEXTS = st.lists(st.text(st.characters(exclude_categories=["Cs"])), max_size=8)


@given(TEXTS)
def test_point_ids_are_uuid5_of_the_document_ids(ids: list[str]) -> None:
    assert point_ids(ids) == [point_id(d) for d in ids]
    namespace = uuid.UUID("5d0b3f0e-8a4c-5b8e-9a51-62d8f3c0b25a")
    assert point_ids(ids) == [str(uuid.uuid5(namespace, d)) for d in ids]


@given(TEXTS)
def test_fingerprints_are_the_python_fingerprint(texts: list[str]) -> None:
    assert fingerprints(texts) == [fingerprint(t) for t in texts]


def test_what_the_native_side_refuses_gets_the_python_answer() -> None:
    texts = ["plain", "lone \ud800 surrogate"]
    assert fingerprints(texts) == [fingerprint(t) for t in texts]
    with pytest.raises(UnicodeEncodeError):  # as point_id raises for it
        point_ids(["ok", "\udc00"])


WORKER = Worker()


@given(st.lists(st.tuples(TEXTS.map(" ".join), TEXTS.map("".join)), max_size=8))
def test_the_worker_makes_the_same_point_ids_and_fingerprints(
    docs: list[tuple[str, str]],
) -> None:
    ids, texts = [d for d, _ in docs], [t for _, t in docs]
    assert point_keys_later(WORKER, ids, texts).result() == (point_ids(ids), fingerprints(texts))


def test_what_the_worker_refuses_gets_the_python_answer_from_the_result() -> None:
    texts = ["plain", "lone \ud800 surrogate"]
    keys = point_keys_later(WORKER, ["a", "b"], texts)
    assert keys.result() == (point_ids(["a", "b"]), [fingerprint(t) for t in texts])
    bad_id = point_keys_later(WORKER, ["ok", "\udc00"], ["x", "y"])
    with pytest.raises(UnicodeEncodeError):  # raised where the keys are taken
        bad_id.result()


def test_the_upsert_json_refuses_what_it_cannot_write() -> None:
    import numpy as np

    indptr = np.array([0, 1], dtype=np.int64)
    indices = np.array([3], dtype=np.uint32)
    values = np.array([1.0], dtype=np.float32)
    with pytest.raises(ValueError, match="1 ids, 2 payloads"):
        upsert_json(["a"], b"[{}, {}]", indptr, indices, values, "bm25", None, "dense")
    with pytest.raises(ValueError, match="id 0 contains a lone surrogate"):
        upsert_json(["\ud800"], b"[{}]", indptr, indices, values, "bm25", None, "dense")
    with pytest.raises(ValueError, match="out of bounds"):
        bad = np.array([0, 2], dtype=np.int64)
        upsert_json(["a"], b"[{}]", bad, indices, values, "bm25", None, "dense")
