"""The service's model rules are worked out once per model name (``ModelPolicy`` keeps them,
as every request names its models): a name asked again gets the same item as the first time,
a request's options never leak into another's, and the names kept are bounded."""

from __future__ import annotations

from typing import Any

import pytest

from bm25x.app.serve import ServeConfig
from bm25x.app.serve.config import Alias
from bm25x.app.serve.errors import BadRequest
from bm25x.app.serve.models import _RULES_KEPT, ModelPolicy
from bm25x.app.serve.protocol import Input


def policy() -> ModelPolicy:
    return ModelPolicy(
        ServeConfig(
            allowed_models=("openai/*", "qdrant/bm25"),
            aliases={"small": Alias("openai/text-embedding-3-small", {"dimensions": 16})},
            defaults={"openai/*": {"dimensions": 24, "user": "svc"}},
        )
    )


def item(p: ModelPolicy, model: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    return p.item(Input("text", "text", model, options or {}), 0)


def test_a_name_asked_again_gets_the_same_item_and_options_stay_per_request() -> None:
    p = policy()
    first = item(p, "small", {"dimensions": 8})
    assert first == {
        "text": "text",
        "model": "openai/text-embedding-3-small",
        "options": {"dimensions": 8, "user": "svc"},
    }
    first["options"]["user"] = "changed by a caller"  # an item is the request's own
    assert item(p, "small") == {
        "text": "text",
        "model": "openai/text-embedding-3-small",
        "options": {"dimensions": 16, "user": "svc"},
    }
    assert item(p, "SMALL")["options"] == {"dimensions": 16, "user": "svc"}
    assert item(p, "openai/text-embedding-3-large")["options"] == {"dimensions": 24, "user": "svc"}
    assert item(p, "qdrant/bm25", {"k": 1.5})["options"] == {"k": 1.5}
    assert item(p, "qdrant/bm25")["options"] == {}


def test_the_allow_list_is_checked_on_every_request() -> None:
    p = policy()
    for _ in range(2):
        with pytest.raises(BadRequest, match="not allowed"):
            item(p, "cohere/embed-v4.0")
        assert p.allowed("SMALL") and p.allowed("OpenAI/x") and not p.allowed("openai")


def test_the_names_kept_are_bounded() -> None:
    p = policy()
    for i in range(_RULES_KEPT * 2 + 5):
        assert item(p, f"openai/model-{i}")["model"] == f"openai/model-{i}"
        assert not p.allowed(f"other/model-{i}")
        assert len(p._rules) <= _RULES_KEPT and len(p._allowed) <= _RULES_KEPT
