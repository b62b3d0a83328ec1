"""The wire format Qdrant speaks to an inference service (``src/common/inference/service.rs``
and ``inference_input.rs`` of qdrant/qdrant, v1.18 and v1.19): parsing its request, shaping the
answer.

Request: ``{"inputs": [{"data", "data_type": "text"|"image"|"object", "model", "options"}],
"inference": "update"|"search", "token": str|null}``. Answer: ``{"embeddings": [...],
"usage": null}`` with one embedding per input, in input order: a dense vector (a list of
numbers), a sparse one (``{"indices", "values"}``) or a multi-vector (a list of lists).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bm25x._sparse import SparseVector
from bm25x.app.serve.errors import BadRequest
from bm25x.errors import ProviderResponseError

__all__ = ["InferenceRequest", "Input", "decode", "encode_answer", "parse_request", "token_of"]

DataType = Literal["text", "image", "object"]
_DATA_TYPES: tuple[DataType, ...] = ("text", "image", "object")


@dataclass(frozen=True)
class Input:
    """One input as Qdrant sends it."""

    data: Any = field(repr=False)  # the user's text or image: never shown
    data_type: DataType
    model: str
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)  # may hold keys


@dataclass(frozen=True)
class InferenceRequest:
    """A parsed request. ``query`` is true for ``"inference": "search"``."""

    inputs: list[Input]
    query: bool


def decode(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body; :class:`BadRequest` for anything else."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        # Says where, not what: the body may be a user's text.
        where = f" at position {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise BadRequest(f"request body is not valid JSON{where}") from None
    if not isinstance(body, dict):
        raise BadRequest(
            f"request body must be a JSON object with 'inputs', got {type(body).__name__}"
        )
    return body


def token_of(body: Mapping[str, Any]) -> str | None:
    """The request's ``token`` (Qdrant's configured token or the caller's JWT subject)."""
    token = body.get("token")
    if token is not None and not isinstance(token, str):
        raise BadRequest("'token' must be a string or null")
    return token


def parse_request(body: Mapping[str, Any]) -> InferenceRequest:
    """The inputs and the kind of inference of a decoded request."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise BadRequest("'inputs' must be a list of inputs")
    kind = body.get("inference")
    if kind is None:
        kind = "update"  # Qdrant's default InferenceType
    if kind not in ("update", "search"):
        raise BadRequest(f"'inference' must be 'update' or 'search', got {kind!r}")
    return InferenceRequest([_input(item, i) for i, item in enumerate(inputs)], kind == "search")


def _input(item: Any, i: int) -> Input:
    where = f"inputs[{i}]"
    if not isinstance(item, dict):
        raise BadRequest(f"{where} must be an object, got {type(item).__name__}")
    model = item.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest(f"{where}.model must be a non-empty string")
    data_type = item.get("data_type")
    if data_type not in _DATA_TYPES:
        raise BadRequest(
            f"{where}.data_type must be one of 'text', 'image', 'object', got {data_type!r}"
        )
    if "data" not in item:
        raise BadRequest(f"{where} has no 'data'")
    data = item["data"]
    if data_type in ("text", "image") and not isinstance(data, str):
        what = "the text" if data_type == "text" else "a URL or base64 string"
        raise BadRequest(f"{where}.data must be {what}, got {type(data).__name__}")
    options = item.get("options")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise BadRequest(f"{where}.options must be an object or null")
    return Input(data, data_type, model, options)


def _dense(values: Any) -> list[float]:
    out: list[float] = np.asarray(values, dtype=np.float32).tolist()
    return out


def embedding_json(vector: Any) -> Any:
    """One embedding as Qdrant reads it (``VectorPersisted``: dense, sparse or multi)."""
    if isinstance(vector, SparseVector):
        return {"indices": vector.indices.tolist(), "values": _dense(vector.values)}
    if isinstance(vector, np.ndarray):
        if vector.ndim == 2:
            return [_dense(row) for row in vector]
        return _dense(vector)
    if isinstance(vector, Sequence):
        return [_dense(row) for row in vector]
    raise TypeError(f"cannot send a {type(vector).__name__} as an embedding")


def encode_answer(vectors: Sequence[Any]) -> bytes:
    """The 200 body for ``vectors``, in order. ``usage`` is null: the providers behind bm25x
    do not report token counts per input, and Qdrant accepts a null usage."""
    embeddings = [embedding_json(v) for v in vectors]
    try:
        text = json.dumps(
            {"embeddings": embeddings, "usage": None}, allow_nan=False, separators=(",", ":")
        )
    except ValueError:
        raise ProviderResponseError(
            "a model returned a vector with NaN or infinite values, which JSON cannot carry"
        ) from None
    return text.encode("utf-8")
