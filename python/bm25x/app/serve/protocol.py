"""The wire format Qdrant speaks to an inference service (``src/common/inference/service.rs``
and ``inference_input.rs`` of qdrant/qdrant, v1.18 and v1.19): parsing its request, shaping the
answer.

Request: ``{"inputs": [{"data", "data_type": "text"|"image"|"object", "model", "options"}],
"inference": "update"|"search", "token": str|null}``. Answer: ``{"embeddings": [...],
"usage": {"models": {"<model>": {"tokens": N}}}}`` with one embedding per input, in input order:
a dense vector (a list of numbers), a sparse one (``{"indices", "values"}``) or a
multi-vector (a list of lists); ``usage`` (``InferenceUsage`` of ``lib/api/src/rest/models.rs``,
tokens an unsigned 64-bit count) is null when no provider counted tokens.

A body is read in two steps. :func:`screen` runs before the caller is known: it checks the
nesting depth and the JSON syntax and reads the ``token``, building nothing of the rest (Qdrant
sends the token last, after every input). Only then, for a caller with the token, does
:func:`read_request` build and check the request: msgspec decodes it into typed structures in
one pass; a body those refuse is read again by :func:`decode` and :func:`parse_request`, which
say what is wrong with it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
import numpy as np
import orjson

from bm25x import SparseVector
from bm25x.app.serve.errors import BadRequest
from bm25x.app.serve.nesting import nesting_depth
from bm25x.errors import ProviderResponseError

__all__ = [
    "MAX_JSON_DEPTH",
    "InferenceRequest",
    "Input",
    "decode",
    "encode_answer",
    "parse_request",
    "read_request",
    "screen",
    "tokens_by_model",
]

#: How deep a body's arrays and objects may nest. Qdrant reads its clients' JSON with
#: serde_json, whose limit is 128 levels, and an inference object sits deeper in the client's
#: request than in the body Qdrant sends on: no body from Qdrant comes near this. Deeper bodies
#: get 400 before any parser recurses into them.
MAX_JSON_DEPTH = 128

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


class _Envelope(msgspec.Struct):
    """The one field of a body read before its sender is known; msgspec skips every other
    field without building it. The token is kept as its JSON text, and decoded only when it is
    a string."""

    token: msgspec.Raw = msgspec.Raw(b"null")


_ENVELOPE = msgspec.json.Decoder(_Envelope)


class _WireInput(msgspec.Struct):
    """One input as Qdrant serialises ``InferenceInput`` (checked further by
    :func:`read_request`)."""

    data: Any
    data_type: DataType
    model: str
    options: dict[str, Any] | None = None


class _WireRequest(msgspec.Struct):
    inputs: list[_WireInput]
    inference: Literal["update", "search"] | None = None


_REQUEST = msgspec.json.Decoder(_WireRequest)


def _may_nest_deeper(raw: bytes | bytearray, limit: int) -> bool:
    """False when ``raw`` holds at most ``limit`` opening brackets in all (so it cannot nest
    deeper): two byte counts in C, where the exact scan costs tens of microseconds."""
    return raw.count(b"[") + raw.count(b"{") > limit


def screen(raw: bytes | bytearray) -> str | None:
    """The ``token`` of a request body (Qdrant's configured token or the caller's JWT
    subject), read without building anything else; :class:`BadRequest` for a body nested
    deeper than :data:`MAX_JSON_DEPTH`, that is not JSON, or is not a JSON object."""
    if (
        _may_nest_deeper(raw, MAX_JSON_DEPTH)
        and nesting_depth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH
    ):
        raise BadRequest(
            f"request body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep, "
            "this service's limit"
        )
    try:
        envelope = _ENVELOPE.decode(raw)
    except msgspec.ValidationError:
        raise BadRequest("request body must be a JSON object with 'inputs'") from None
    except msgspec.DecodeError as exc:
        # msgspec's reason says what and where (a byte offset), never quoting the body, which
        # may be a user's text. A lone surrogate escape ("\ud800") is refused here too, as
        # I-JSON (RFC 7493) requires; Qdrant, writing Rust strings, never sends one.
        reason = str(exc).removeprefix("JSON is malformed: ")
        raise BadRequest(f"request body is not valid JSON ({reason})") from None
    text = bytes(envelope.token)
    if text == b"null":
        return None
    # Only a string is decoded: any other value could be a large structure, built for nothing.
    if not text.startswith(b'"'):
        raise BadRequest("'token' must be a string or null")
    token: str = json.loads(text)
    return token


def read_request(raw: bytes | bytearray) -> InferenceRequest:
    """The request in a body that passed :func:`screen`; :class:`BadRequest` saying what is
    wrong for anything else."""
    try:
        wire = _REQUEST.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        wire = None
    if wire is not None:
        inputs = []
        for item in wire.inputs:
            if not item.model or (item.data_type != "object" and not isinstance(item.data, str)):
                break  # parse_request says which and why
            inputs.append(Input(item.data, item.data_type, item.model, item.options or {}))
        else:
            return InferenceRequest(inputs, wire.inference == "search")
    return parse_request(decode(raw))


def decode(raw: bytes | bytearray) -> dict[str, Any]:
    """The JSON object of a request body that passed :func:`screen` (so nested at most
    :data:`MAX_JSON_DEPTH` levels); :class:`BadRequest` for anything else."""
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
    array = np.asarray(values, dtype=np.float32)
    out: list[float] = array.tolist()
    # Finite values only: the sum of float32 values is NaN or infinite exactly when one of
    # them is (it cannot overflow a double). Short vectors (bm25's values, one per kept
    # term) are summed as the list already made, faster than two numpy calls.
    total = sum(out) if len(out) <= _SUMMED else float(np.add.reduce(array, dtype=np.float64))
    if not math.isfinite(total):
        raise ProviderResponseError(
            "a model returned a vector with NaN or infinite values, which JSON cannot carry"
        )
    return out


_SUMMED = 256


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


def tokens_by_model(models: Sequence[str], tokens: Sequence[int | None]) -> dict[str, int]:
    """The tokens of the inputs summed per model name as the request named it (an alias stays
    the alias); inputs whose provider gave no count are left out."""
    out: dict[str, int] = {}
    for model, count in zip(models, tokens):
        if count is not None:
            out[model] = out.get(model, 0) + count
    return out


def encode_answer(vectors: Sequence[Any], tokens: Mapping[str, int] | None = None) -> bytes:
    """The 200 body for ``vectors``, in order, with ``usage`` as Qdrant reads it
    (``InferenceUsage``: ``{"models": {"<model>": {"tokens": N}}}``, passed on to its client)
    for the models in ``tokens``; null when no provider gave a count."""
    embeddings = [embedding_json(v) for v in vectors]
    usage = {"models": {m: {"tokens": n} for m, n in tokens.items()}} if tokens else None
    # orjson writes each float as Python's repr does (the shortest text that reads back the
    # same double), like json.dumps, several times faster.
    out: bytes = orjson.dumps({"embeddings": embeddings, "usage": usage})
    return out
