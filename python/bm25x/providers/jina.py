"""``jinaai/<model>``: Jina AI's embeddings API (``POST {JINA_BASE_URL}/embeddings``), text and
images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bm25x.errors import BadInputError
from bm25x.providers._base import Call, Item, kind_of
from bm25x.providers._remote import HttpProvider

__all__ = ["JinaProvider"]

# Models that take retrieval.query / retrieval.passage as their task.
_TASK_MODELS = ("jina-embeddings-v3", "jina-embeddings-v4", "jina-clip-v2")


class JinaProvider(HttpProvider):
    """Jina embeddings. Texts go as ``input: [str, ...]``, or as ``{"text": ...}`` objects next
    to images; images (a URL or base64, as Jina takes them; a data URL is reduced to its
    base64) go as ``{"image": ...}``. For models with retrieval tasks bm25x sets
    ``task`` to ``retrieval.query`` or ``retrieval.passage`` unless the options name one.
    Other options (``dimensions``, ``normalized``, ``late_chunking``, ...) go as they are."""

    name = "jinaai"
    key_option = "jina-api-key"
    key_env = "JINA_API_KEY"
    base_env = "JINA_BASE_URL"
    default_base = "https://api.jina.ai/v1"
    path = "/embeddings"
    max_batch = 512

    async def request(
        self, model: str, items: Sequence[Item], options: Mapping[str, Any], call: Call
    ) -> dict[str, Any]:
        """``{"model", "input": [...], **options}`` (plus ``task`` where it applies)."""
        body: dict[str, Any] = dict(options)
        if "task" not in body and model.lower().startswith(_TASK_MODELS):
            body["task"] = "retrieval.query" if call.query else "retrieval.passage"
        if all(item.kind == "text" for item in items):
            body["input"] = self.text_only(model, items)
        else:
            inputs: list[dict[str, str]] = []
            for item in items:
                if item.kind == "text" and isinstance(item.value, str):
                    inputs.append({"text": item.value})
                elif item.kind == "image" and isinstance(item.value, str):
                    value = item.value
                    if value.startswith("data:") and ";base64," in value:
                        value = value.split(";base64,", 1)[1]
                    inputs.append({"image": value})
                else:
                    raise BadInputError(
                        f"jinaai takes texts and images given as a URL or base64 string, "
                        f"got {kind_of(item)} of type {type(item.value).__name__}",
                        provider=self.name,
                        model=model,
                    )
            body["input"] = inputs
        body["model"] = model
        return body
