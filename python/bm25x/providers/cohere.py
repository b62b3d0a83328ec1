"""``cohere/<model>``: Cohere's Embed API v2 (``POST {CO_API_URL}/v2/embed``).

Only v2 is spoken. ``input_type`` is ``search_query`` for queries and ``search_document``
otherwise, unless the options name one. Cohere takes images only as data URLs, so bm25x turns
an image URL (fetched), raw base64 or bytes into ``data:<mime>;base64,...`` itself, refusing
images over ``max_image_bytes`` (5 MiB, Cohere's limit, by default).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bm25x.errors import BadInputError, ProviderResponseError
from bm25x.providers._base import Call, Item, Kind
from bm25x.providers._fetch import fetch_image, sniff_image_type, split_data_url
from bm25x.providers._remote import HttpProvider, count, dense

__all__ = ["CohereProvider", "sniff_image_type"]

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class CohereProvider(HttpProvider):
    """Cohere embeddings (v2). Up to 96 texts, or one image, per request. Options other than
    the key and ``mrl`` (``output_dimension``, ``truncate``, ``max_tokens``, ``input_type``,
    ``embedding_types``) go into the body as they are; bm25x reads the ``float`` embeddings."""

    name = "cohere"
    key_option = "cohere-api-key"
    key_env = "CO_API_KEY"
    base_env = "CO_API_URL"
    default_base = "https://api.cohere.com"
    path = "/v2/embed"
    max_batch = 96
    dimensions_option = "output_dimension"

    def __init__(self, *, max_image_bytes: int = 5 * 1024 * 1024, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_image_bytes = max_image_bytes

    def batch_limit(self, kind: Kind) -> int:
        """96 texts, or 1 image, per request."""
        return 1 if kind == "image" else self.max_batch

    async def request(
        self, model: str, items: Sequence[Item], options: Mapping[str, Any], call: Call
    ) -> dict[str, Any]:
        """``{"model", "input_type", "embedding_types": ["float"], "texts" | "images"}``."""
        body: dict[str, Any] = {
            "input_type": "search_query" if call.query else "search_document",
            "embedding_types": ["float"],
            **options,
        }
        body["model"] = model
        types = body["embedding_types"]
        if not isinstance(types, list) or "float" not in types:
            body["embedding_types"] = [*(types if isinstance(types, list) else []), "float"]
        if items and items[0].kind == "image":
            body["images"] = [await self.data_url(model, item, call) for item in items]
        else:
            body["texts"] = self.text_only(model, items)
        return body

    async def data_url(self, model: str, item: Item, call: Call) -> str:
        """The image as a data URL of at most ``max_image_bytes`` decoded bytes."""
        value = item.value
        if item.kind != "image":
            raise BadInputError(f"not an image: {item.kind}", provider=self.name, model=model)
        data: bytes
        declared: str | None = None
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
        elif isinstance(value, str) and value.startswith("data:"):
            declared, payload = split_data_url(value, provider=self.name, model=model)
            data = self._b64(payload, model)
        elif isinstance(value, str) and _URL.match(value):  # base64 has no ':', so a URL
            # Fetched under the call's FetchPolicy, which also sniffs the bytes: a fetched
            # body's own Content-Type is never trusted.
            data, declared = await fetch_image(
                value,
                call.fetch_policy,
                provider=self.name,
                model=model,
                limit=self.max_image_bytes,
            )
        elif isinstance(value, str):
            data = self._b64(value, model)
        else:
            raise BadInputError(
                f"image must be a URL, a data URL, base64 or bytes, got {type(value).__name__}",
                provider=self.name,
                model=model,
            )
        if len(data) > self.max_image_bytes:
            raise BadInputError(
                f"image is {len(data)} bytes, over the {self.max_image_bytes}-byte limit",
                provider=self.name,
                model=model,
            )
        mime = sniff_image_type(data) or declared
        if mime not in _IMAGE_TYPES:
            raise BadInputError(
                f"image must be PNG, JPEG, GIF or WebP for cohere, got {mime or 'unknown data'}",
                provider=self.name,
                model=model,
            )
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    def _b64(self, text: str, model: str) -> bytes:
        # Refuse obviously oversized input before decoding it.
        if len(text) > (self.max_image_bytes * 4) // 3 + 8:
            raise BadInputError(
                f"image is over the {self.max_image_bytes}-byte limit",
                provider=self.name,
                model=model,
            )
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise BadInputError(
                "image string is neither a URL nor valid base64", provider=self.name, model=model
            ) from None

    def tokens(self, body: Any) -> int | None:
        """The billed tokens of a v2 answer (``meta.billed_units``): ``input_tokens`` when
        given, else ``text_tokens`` plus ``image_tokens`` (Cohere bills an image's tokens
        apart); None when it bills none of these."""
        meta = body.get("meta") if isinstance(body, dict) else None
        billed = meta.get("billed_units") if isinstance(meta, dict) else None
        if not isinstance(billed, dict):
            return None
        total = count(billed.get("input_tokens"))
        if total is not None:
            return total
        parts = [count(billed.get(k)) for k in ("text_tokens", "image_tokens")]
        known = [n for n in parts if n is not None]
        return sum(known) if known else None

    def parse(self, body: Any, n: int, model: str) -> list[npt.NDArray[np.float32]]:
        """``embeddings.float`` of a v2 answer: exactly ``n`` vectors."""
        embeddings = body.get("embeddings") if isinstance(body, dict) else None
        floats = embeddings.get("float") if isinstance(embeddings, dict) else None
        if not isinstance(floats, list):
            raise ProviderResponseError(
                "answer has no 'embeddings.float' list",
                provider=self.name,
                model=model,
                status=200,
            )
        if len(floats) != n:
            raise ProviderResponseError(
                f"answer has {len(floats)} vectors for {n} inputs",
                provider=self.name,
                model=model,
                status=200,
            )
        return [dense(v, provider=self.name, model=model, index=i) for i, v in enumerate(floats)]
