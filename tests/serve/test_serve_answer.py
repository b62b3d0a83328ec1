"""The service writes finite numbers only (JSON has no NaN or infinity): a dense vector or
multi-vector holding either is refused as the provider's fault, whatever its length (a
SparseVector cannot hold one at all); the largest finite float32 values pass (their sum, by
which the check goes, cannot overflow)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from bm25x import SparseVector
from bm25x.app.serve.protocol import embedding_json, encode_answer
from bm25x.errors import ProviderResponseError

BIG = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("size", [1, 6, 256, 257, 3072])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_vector_with_nan_or_infinity_is_refused(size: int, bad: float) -> None:
    values = np.full(size, 0.5, dtype=np.float32)
    values[size // 2] = bad
    with pytest.raises(ProviderResponseError, match="NaN or infinite"):
        embedding_json(values)
    with pytest.raises(ProviderResponseError, match="NaN or infinite"):
        embedding_json([values, np.zeros(size, dtype=np.float32)])  # a multi-vector


@pytest.mark.parametrize("size", [6, 256, 257, 3072])
def test_the_largest_finite_values_pass(size: int) -> None:
    values = np.full(size, BIG, dtype=np.float32)
    values[0] = -BIG
    assert embedding_json(values) == values.tolist()
    body = orjson.loads(encode_answer([SparseVector(np.arange(size, dtype=np.uint32), values)]))
    assert body["embeddings"][0]["values"] == values.tolist()
