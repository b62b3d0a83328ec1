"""``__all__`` lists exactly the public names a module exposes (as httpx checks for its own):
nothing public is missing from it, nothing in it is absent or private."""

from __future__ import annotations
import __future__

import importlib
from types import ModuleType

import pytest

# Dunder names that are public by convention.
PUBLIC_DUNDERS = {"__version__"}


def exposed(module: ModuleType) -> set[str]:
    """Every attribute a user can reach that is not private, not a submodule and not a
    ``from __future__`` flag (a compiler directive, not an API)."""
    return {
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name in PUBLIC_DUNDERS)
        and not isinstance(value, (ModuleType, __future__._Feature))
    }


@pytest.mark.parametrize("name", ["bm25x", "bm25x.errors", "bm25x.app", "bm25x.app.errors"])
def test_all_is_what_the_module_exposes(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(exposed(module))
    assert len(set(module.__all__)) == len(module.__all__)


def test_errors_holds_every_public_error() -> None:
    import bm25x
    from bm25x import errors

    # Every error and warning bm25x exports anywhere is importable from bm25x.errors.
    public_errors = {
        name
        for name in bm25x.__all__
        if isinstance(getattr(bm25x, name), type)
        and issubclass(getattr(bm25x, name), (Exception, Warning))
    }
    assert public_errors <= set(errors.__all__)
    for name in ("OptionError", "VectorSizeError"):
        assert issubclass(getattr(errors, name), Exception)
    assert errors.OptionError is bm25x.OptionError


@pytest.mark.parametrize("name", ["StoreError", "CorpusError"])
def test_the_commands_errors_live_in_the_application_and_the_old_name_warns(name: str) -> None:
    import bm25x.app
    from bm25x import errors

    assert name not in errors.__all__ and name in bm25x.app.__all__
    assert getattr(bm25x.app, name).__module__ == "bm25x.app.errors"
    with pytest.warns(
        DeprecationWarning, match=rf"bm25x\.errors\.{name} .*from bm25x\.app import {name}"
    ):
        moved = getattr(errors, name)
    assert moved is getattr(bm25x.app, name)
    with pytest.raises(AttributeError, match="no attribute 'NoSuchError'"):
        errors.NoSuchError  # noqa: B018
