"""SparseBatch.to_scipy() and to_arrow(): the same vectors, in the documented shapes."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import pytest
from support import require

import bm25x

TEXTS = ["Recipe for baking chocolate chip cookies", "", "cookies cookies", "ΟΔΟΣ 字"]


def test_to_scipy_rows_are_the_vectors() -> None:
    sparse = require("scipy.sparse")
    batch = bm25x.Bm25().encode(TEXTS)
    m = batch.to_scipy()
    assert isinstance(m, sparse.csr_array)
    assert m.shape == (len(TEXTS), 2**32)
    assert m.dtype == np.float32
    for i, vec in enumerate(batch):
        row = m[[i], :]
        assert row.indices.tolist() == vec.indices.tolist()
        assert row.data.tolist() == vec.values.tolist()
    # the largest id has its column
    top = bm25x.SparseBatch([0, 1], [2**32 - 1], [0.5]).to_scipy()
    assert top[0, 2**32 - 1] == np.float32(0.5)
    assert np.shares_memory(m.data, batch.values)


def test_to_arrow_is_two_list_columns_sharing_buffers() -> None:
    pa = require("pyarrow")
    batch = bm25x.Bm25().encode(TEXTS)
    table = batch.to_arrow()
    assert table.type == pa.struct(
        [("indices", pa.list_(pa.uint32())), ("values", pa.list_(pa.float32()))]
    )
    rows = table.to_pylist()
    assert rows == [{"indices": v.indices.tolist(), "values": v.values.tolist()} for v in batch]
    flat = table.field("indices").flatten().to_numpy(zero_copy_only=True)
    assert np.shares_memory(flat, batch.indices)


@pytest.mark.parametrize(("method", "module"), [("to_scipy", "scipy"), ("to_arrow", "pyarrow")])
def test_missing_optional_dependency_is_named(
    monkeypatch: pytest.MonkeyPatch, method: str, module: str
) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == module:
            raise ImportError(f"No module named {module!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=f"pip install {module}"):
        getattr(bm25x.Bm25().encode(TEXTS), method)()
