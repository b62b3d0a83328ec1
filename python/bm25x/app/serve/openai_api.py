"""OpenAI's embeddings API on the service: ``POST /v1/embeddings``, so that applications that
speak it (the ``openai`` SDK, LangChain's ``OpenAIEmbeddings(base_url=...)``) use the same
service, its allowed models, aliases and limits.

Request: ``{"model", "input": str | [str], "dimensions"?, "encoding_format"?: "float" |
"base64", "user"?}`` (OpenAI's fields; others are ignored, as OpenAI-compatible servers do).
Answer: ``{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
"usage": {"prompt_tokens", "total_tokens"}}``; ``base64`` is the little-endian float32 bytes
(the ``openai`` SDK asks for it unless told otherwise, and decodes it). Errors are OpenAI's
shape, ``{"error": {"message", "type", "param", "code"}}``.

Token arrays as ``input`` (what LangChain's ``OpenAIEmbeddings`` sends after splitting texts
with OpenAI's tokenizer) are refused: set ``check_embedding_ctx_length=False`` there.
``dimensions`` becomes the provider's own option where it has one (``dimensions`` for OpenAI,
OpenRouter and Jina, ``output_dimension`` for Cohere) and ``mrl`` (the first N values) for
every other dense model.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import numpy as np
import orjson

from bm25x import providers
from bm25x.app.serve.errors import BadRequest
from bm25x.errors import ProviderResponseError, UnknownModelError
from bm25x.providers.bm25 import bm25_flavor

__all__ = [
    "PATH",
    "EmbeddingsRequest",
    "dimensions_option",
    "encode_embeddings",
    "error_body",
    "parse",
]

PATH = "/v1/embeddings"
_TOKEN_ARRAYS = (
    "'input' must be a string or a list of strings; token arrays are not accepted (with "
    "LangChain's OpenAIEmbeddings, set check_embedding_ctx_length=False)"
)


@dataclass(frozen=True)
class EmbeddingsRequest:
    """A checked request."""

    model: str
    texts: list[str]
    dimensions: int | None
    encoding_format: Literal["float", "base64"]


class _Wire(msgspec.Struct):
    model: str
    input: str | list[str]
    dimensions: int | None = None
    encoding_format: Literal["float", "base64"] | None = None
    user: str | None = None


_DECODER = msgspec.json.Decoder(_Wire)


def parse(raw: bytes | bytearray) -> EmbeddingsRequest:
    """The request in a body (nested no deeper than the service allows, as JSON);
    :class:`BadRequest` saying what is wrong for anything else."""
    try:
        wire = _DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        where = str(exc)
        if "$.input" in where:
            raise BadRequest(_TOKEN_ARRAYS) from None
        raise BadRequest(f"request body is not an embeddings request: {where}") from None
    except msgspec.DecodeError as exc:
        reason = str(exc).removeprefix("JSON is malformed: ")
        raise BadRequest(f"request body is not valid JSON ({reason})") from None
    texts = [wire.input] if isinstance(wire.input, str) else wire.input
    if not wire.model:
        raise BadRequest("'model' must be a non-empty string")
    if not texts:
        raise BadRequest("'input' must not be empty")
    if wire.dimensions is not None and wire.dimensions < 1:
        raise BadRequest(f"'dimensions' must be a positive integer, got {wire.dimensions}")
    return EmbeddingsRequest(wire.model, texts, wire.dimensions, wire.encoding_format or "float")


def dimensions_option(model: str, dimensions: int) -> dict[str, int]:
    """The option that asks ``model`` (a model name as the provider registry knows it) for
    ``dimensions`` values: the provider's own (``dimensions_option``) where it has one, else
    ``mrl``; :class:`BadRequest` for bm25, whose vectors are sparse."""
    if bm25_flavor(model) is not None:
        raise BadRequest(f"model {model!r} gives sparse vectors, which have no 'dimensions'")
    try:
        provider = providers.resolve(model)[0]
    except UnknownModelError:
        return {"mrl": dimensions}  # embed reports the unknown model, naming it
    option = getattr(provider, "dimensions_option", None)
    return {option if isinstance(option, str) and option else "mrl": dimensions}


def encode_embeddings(
    vectors: Sequence[Any], model: str, encoding: str, tokens: Sequence[int | None]
) -> bytes:
    """The 200 body: one dense vector per text, in order, as floats or base64 float32;
    :class:`BadRequest` for a model whose vectors are not dense (sparse, multi-vector)."""
    data = []
    for index, vector in enumerate(vectors):
        if not isinstance(vector, np.ndarray) or vector.ndim != 1:
            kind = "multi-vectors" if isinstance(vector, (list, np.ndarray)) else "sparse vectors"
            raise BadRequest(
                f"model {model!r} gives {kind}; /v1/embeddings answers dense vectors only "
                "(use Qdrant's inference endpoint for the others)"
            )
        values = np.asarray(vector, dtype="<f4")
        if not np.isfinite(values).all():
            raise ProviderResponseError(
                "a model returned a vector with NaN or infinite values, which JSON cannot carry"
            )
        embedding: Any = (
            base64.b64encode(values.tobytes()).decode("ascii")
            if encoding == "base64"
            else values.tolist()
        )
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    counted = sum(n for n in tokens if n is not None)
    usage = {"prompt_tokens": counted, "total_tokens": counted}
    out: bytes = orjson.dumps({"object": "list", "data": data, "model": model, "usage": usage})
    return out


#: OpenAI's error ``type`` for each status the service answers.
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    408: "timeout",
    413: "invalid_request_error",
    429: "rate_limit_error",
    499: "invalid_request_error",
}


def error_body(status: int, message: str) -> bytes:
    """An error in OpenAI's shape."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    out: bytes = orjson.dumps(body)
    return out
