"""``openai/<model>``: OpenAI's embeddings API (``POST {OPENAI_BASE_URL}/embeddings``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bm25x.providers._base import Call, Item
from bm25x.providers._remote import HttpProvider

__all__ = ["OpenAIProvider"]


class OpenAIProvider(HttpProvider):
    """Text embeddings from OpenAI. Options other than the key and ``mrl`` (``dimensions``,
    ``user``, ``encoding_format``, ...) go into the request body as they are; bm25x asks for
    ``encoding_format: "float"`` unless told otherwise.

    OpenAI takes at most 2,048 inputs and 300,000 tokens summed over them per request (its
    API reference). bm25x sends at most 2,048 texts and 300,000 bytes of them (UTF-8): a
    token is at least one byte, so no request passes the token limit."""

    name = "openai"
    key_option = "openai-api-key"
    key_env = "OPENAI_API_KEY"
    base_env = "OPENAI_BASE_URL"
    default_base = "https://api.openai.com/v1"
    path = "/embeddings"
    max_batch = 2048
    #: Bytes of text (UTF-8) per request: OpenAI's 300,000 tokens, a token being >= 1 byte.
    max_batch_bytes: int | None = 300_000

    async def request(
        self, model: str, items: Sequence[Item], options: Mapping[str, Any], call: Call
    ) -> dict[str, Any]:
        """``{"model", "input": [texts], "encoding_format": "float", **options}``."""
        body: dict[str, Any] = {"encoding_format": "float", **options}
        body["model"] = model
        body["input"] = self.text_only(model, items)
        return body
