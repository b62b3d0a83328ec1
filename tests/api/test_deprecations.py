"""Renamed modules keep their old names as deprecated aliases: importing one warns once, names
the new module, and gives the very objects of the new module (issue 21: the local-models
provider was ``bm25x.providers.fastembed``)."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest
from support import DEPRECATED_MODULES

from bm25x import providers


@pytest.mark.parametrize("old", sorted(DEPRECATED_MODULES))
def test_an_old_module_name_warns_once_and_gives_the_same_objects(
    old: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_name, renamed = DEPRECATED_MODULES[old]
    new = importlib.import_module(new_name)
    # A first import, whatever the tests before this one imported; restored afterwards.
    monkeypatch.delitem(sys.modules, old, raising=False)
    parent, _, leaf = old.rpartition(".")
    monkeypatch.delattr(sys.modules[parent], leaf, raising=False)

    with pytest.warns(DeprecationWarning) as record:
        exec(compile(f"import {old}", "importer.py", "exec"), {})
    module = sys.modules[old]
    assert len(record) == 1
    message = str(record[0].message)
    assert old in message and new_name in message and "deprecated" in message
    for old_object, new_object in renamed.items():
        assert old_object in message and new_object in message
    # The warning points at the line that imports, not at the alias module or importlib.
    assert (record[0].filename, record[0].lineno) == ("importer.py", 1)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert importlib.import_module(old) is module  # a second import: no warning

    for old_object, new_object in renamed.items():
        assert getattr(module, old_object) is getattr(new, new_object)
    for name in new.__all__:
        assert getattr(module, name) is getattr(new, name)
    # Private names too, so monkeypatching code that reads them sees the new module's objects.
    private = [n for n in vars(new) if n.startswith("_") and not n.startswith("__")]
    assert private
    for name in private:
        assert getattr(module, name) is getattr(new, name)


def test_the_registry_serves_local_models_with_the_class_the_old_name_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bm25x.providers.local_models import LocalModelProvider

    monkeypatch.delitem(sys.modules, "bm25x.providers.fastembed", raising=False)
    monkeypatch.delattr(providers, "fastembed", raising=False)
    with pytest.warns(DeprecationWarning):
        old = importlib.import_module("bm25x.providers.fastembed")
    assert type(providers.get("fastembed/")) is LocalModelProvider is old.FastembedProvider
