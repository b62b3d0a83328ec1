"""Point ids are ``uuid5`` of the document id under bm25x's fixed namespace, computed by hand
for speed: the same string as ``uuid.uuid5`` for every id, and the same error for bad ones."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bm25x._ids import _NAMESPACE, point_id


@given(st.text())
def test_point_id_is_uuid5_of_the_document_id(doc_id: str) -> None:
    try:
        expected: Any = str(uuid.uuid5(_NAMESPACE, doc_id))
    except UnicodeEncodeError:  # a lone surrogate
        expected = UnicodeEncodeError
    if expected is UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            point_id(doc_id)
    else:
        assert point_id(doc_id) == expected


def test_known_point_ids_never_change() -> None:
    # stored collections depend on these: a change would give every document a new id
    assert point_id("d12345") == "eb660c0a-33aa-5700-ae23-01d4a51c8b8c"
    assert point_id("") == str(uuid.uuid5(_NAMESPACE, ""))
    assert uuid.UUID(point_id("é")).version == 5


def test_a_non_string_id_fails_as_uuid5_does() -> None:
    with pytest.raises(TypeError):
        point_id(5)  # type: ignore[arg-type]
