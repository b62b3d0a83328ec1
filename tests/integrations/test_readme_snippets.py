"""Every Python block of the README's "Using bm25x from …" section runs as it is (blocks whose
framework is not installed are skipped)."""

from __future__ import annotations

import importlib.util
import re
import warnings
from typing import Any

import pytest
from support import require
from support.strategies import REPO

SECTION = REPO.joinpath("README.md").read_text(encoding="utf-8").split("## Using bm25x from …")[1]
SECTION = SECTION.split("\n## ")[0]
BLOCKS = re.findall(r"```python\n(.*?)```", SECTION, flags=re.DOTALL)
# The framework each block needs, by the module its imports name first.
NEEDS = {
    "langchain_qdrant": "langchain_qdrant",
    "llama_index": "llama_index.vector_stores.qdrant",
    "haystack": "haystack_integrations.document_stores.qdrant",
    "qdrant_client": "qdrant_client",
    "fastembed": "bm25x",
}


def needed(block: str) -> list[str]:
    return [module for key, module in NEEDS.items() if re.search(rf"\b{key}\b", block)]


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_the_section_has_every_snippet() -> None:
    assert len(BLOCKS) == 6
    for word in ("fastembed", "langchain_qdrant", "llama_index", "haystack", "AsyncQdrantClient"):
        assert any(word in b for b in BLOCKS), word


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_snippet_runs(block: str, capsys: pytest.CaptureFixture[str]) -> None:
    for module in needed(block):
        if not installed(module):
            require(module)  # a skip locally, an error in CI
    namespace: dict[str, Any] = {"__name__": "readme"}
    with warnings.catch_warnings():
        # llama-index creates a payload index, which embedded Qdrant says has no effect.
        warnings.filterwarnings("ignore", "Payload indexes have no effect in the local Qdrant")
        exec(compile(block, "README.md", "exec"), namespace)
    assert capsys.readouterr().out.strip()  # each snippet prints its result
