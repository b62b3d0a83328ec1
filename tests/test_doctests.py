"""The `>>>` examples in the package's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["bm25x", "bm25x._encoder", "bm25x._sparse", "bm25x.baseline"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0
    assert result.failed == 0
