"""Each adapter without its framework fails with an ImportError that names the extra to
install. (That the library never imports the adapters: tests/api/test_layering.py.)"""

from __future__ import annotations

import importlib
import sys

import pytest

from bm25x.integrations import _framework


@pytest.mark.parametrize(
    ("adapter", "framework_module", "extra"),
    [
        ("langchain", "langchain_qdrant", "langchain"),
        ("llama_index", "llama_index.vector_stores.qdrant", "llama-index"),
        ("haystack", "haystack_integrations.document_stores.qdrant", "haystack"),
    ],
)
def test_missing_framework_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, adapter: str, framework_module: str, extra: str
) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> object:
        if name == framework_module:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(_framework.importlib, "import_module", fake)
    monkeypatch.delitem(sys.modules, f"bm25x.integrations.{adapter}", raising=False)
    with pytest.raises(ImportError, match=rf"pip install 'bm25x-sparse\[{extra}\]'"):
        real(f"bm25x.integrations.{adapter}")
