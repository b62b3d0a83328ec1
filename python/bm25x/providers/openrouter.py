"""``openrouter/<vendor>/<model>``: OpenRouter's OpenAI-compatible embeddings API
(``POST {OPENROUTER_BASE_URL}/embeddings``); the model sent is ``<vendor>/<model>``."""

from __future__ import annotations

from bm25x.providers.openai import OpenAIProvider

__all__ = ["OpenRouterProvider"]


class OpenRouterProvider(OpenAIProvider):
    """Text embeddings through OpenRouter, in OpenAI's wire format. Options (``dimensions``,
    ``provider`` routing preferences, ``input_type``, ...) go into the body as they are."""

    name = "openrouter"
    key_option = "openrouter-api-key"
    key_env = "OPENROUTER_API_KEY"
    base_env = "OPENROUTER_BASE_URL"
    default_base = "https://openrouter.ai/api/v1"
    max_batch = 512
