"""The `>>>` examples in every module's docstrings run and hold: one runner that walks the
whole package (no hand-kept list to forget a module in)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest
from support import DEPRECATED_MODULES, require

import bm25x

# Deprecated aliases are left out: importing one warns (tests/api/test_deprecations.py).
MODULES = sorted(
    {"bm25x"}
    | {m.name for m in pkgutil.walk_packages(bm25x.__path__, prefix="bm25x.")}
    - DEPRECATED_MODULES.keys()
)
# Modules whose examples are part of their documentation: a walk that found none there would
# mean the runner, not the module, lost them.
WITH_EXAMPLES = {
    "bm25x",
    "bm25x._embed",
    "bm25x._encoder",
    "bm25x._qdrant_core",
    "bm25x.app.eval",
    "bm25x._sparse",
    "bm25x.baseline",
    "bm25x.providers",
    "bm25x.providers.bm25",
    "bm25x.qdrant",
}


def _import(name: str) -> ModuleType:
    """The module; a module that needs an optional package not installed here is skipped
    (an error in CI, through :func:`support.require`)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing = exc
        while missing.__cause__ is not None and isinstance(missing.__cause__, ImportError):
            missing = missing.__cause__
        if (
            isinstance(missing, ModuleNotFoundError)
            and missing.name
            and not (missing.name.startswith("bm25x"))
        ):
            require(missing.name)
        raise


def test_the_walk_finds_every_documented_module() -> None:
    assert set(MODULES) >= WITH_EXAMPLES | {"bm25x.providers._base", "bm25x._native"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(_import(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in WITH_EXAMPLES:
        assert result.attempted > 0
