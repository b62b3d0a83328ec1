"""Shared pytest/hypothesis setup.

Hypothesis profiles: "ci" (the default) has no deadline, because timings on shared CI runners
are noisy, and a moderate default of 100 examples; test files set their own counts through
``strategies.examples(n)``, which ``BM25X_EXAMPLES_SCALE=20`` multiplies for a deep local run.
"thorough" (``HYPOTHESIS_PROFILE=thorough``) raises the default for tests without their own.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

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


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis imports mypy_extensions.TypedDict while it reports a failing example; with
    # filterwarnings=error that DeprecationWarning turns the report into an INTERNALERROR that
    # hides the falsifying example.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )
