"""Helpers shared by the test suites (oracles, strategies, a fake provider server, the Unicode
sweep), importable as ``support`` through pytest's ``pythonpath = ["tests"]``.

:func:`require` and :func:`require_dir` are the one way a test depends on something optional:
locally a missing oracle, framework or reference directory skips the tests that need it; in CI
(the ``CI`` environment variable set) it is an error, so nothing is silently left untested.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

__all__ = ["DEPRECATED_MODULES", "IN_CI", "require", "require_dir"]

IN_CI = bool(os.environ.get("CI"))

#: Old module names kept as deprecated aliases: old name -> (new name, {old object name: new
#: object name}). Importing one warns (tests/api/test_deprecations.py); nothing in bm25x or the
#: tests imports one (tests/api/test_layering.py), and the doctest walk leaves them out.
DEPRECATED_MODULES: dict[str, tuple[str, dict[str, str]]] = {
    "bm25x.providers.fastembed": (
        "bm25x.providers.local_models",
        {"FastembedProvider": "LocalModelProvider"},
    ),
}


def require(module: str) -> ModuleType:
    """``module``, imported; when it is not installed, a skip locally and an error in CI."""
    if IN_CI:
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            pytest.fail(f"CI must have {module!r} installed (make dev): {exc}", pytrace=False)
    return pytest.importorskip(module)


def require_dir(path: Path, what: str) -> pytest.MarkDecorator:
    """A mark for tests that read ``path`` (e.g. ``../shared/corpora``): they skip locally
    when it is absent; in CI the module that asks fails to collect (an error, not a skip)."""
    if not path.is_dir() and IN_CI:
        pytest.fail(f"CI must have {what} at {path}", pytrace=False)
    return pytest.mark.skipif(not path.is_dir(), reason=f"{what} is absent ({path})")
