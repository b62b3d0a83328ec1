"""Step 1 of :func:`bm25x.embed`: each caller item parsed into (kind, value, model, options),
API keys masked the moment bm25x reads them, and the caller's headers collected."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bm25x._options import is_key_option, plain
from bm25x._secrets import remember_secret
from bm25x.errors import BadInputError, KeyTooLongError
from bm25x.providers._base import Item, Kind

__all__ = ["MAX_MODEL_BYTES", "Parsed", "collect_headers", "parse", "passthrough", "value_key"]

#: The longest model name :func:`bm25x.embed` takes, in UTF-8 bytes. Real names are far shorter
#: (a Hugging Face repository id is at most 96 characters each side of its slash, with a
#: provider prefix); a name is kept in messages, groups and caches, and a caller of a service
#: controls it, so it is bounded before anything else is done with it.
MAX_MODEL_BYTES = 512

KIND_FIELDS: tuple[tuple[str, Kind], ...] = (
    ("text", "text"),
    ("image", "image"),
    ("object", "object"),
)


@dataclass
class Parsed:
    kind: Kind
    value: Any
    model: str
    options: dict[str, Any]


def options_dict(options: Any, where: str, i: int) -> dict[str, Any]:
    if options is None:
        return {}
    if callable(getattr(options, "model_dump", None)):  # qdrant_client.models.Bm25Config
        options = plain(options)
    if not isinstance(options, Mapping):
        raise BadInputError(f"{where}: options must be a dict, got {type(options).__name__}")
    try:
        return {str(k): mask_key(str(k), plain(v, str(k)), where) for k, v in options.items()}
    except KeyTooLongError as exc:
        raise exc.with_items([i]) from None
    except (TypeError, ValueError) as exc:  # no JSON form
        raise BadInputError(f"{where}: {exc}", items=[i]) from None


def mask_key(name: str, value: Any, where: str) -> Any:
    """An API key option's value as a :class:`Secret`, from the moment bm25x reads it, so that
    none of bm25x's own values (and the traceback locals showing them) holds it in clear;
    :class:`KeyTooLongError` for a key over ``MAX_KEY_BYTES``."""
    if is_key_option(name) and value is not None:
        return remember_secret(str(value), where=f"{where}: option {name!r}")
    return value


def parse(item: Any, model: str | None, options: Mapping[str, Any] | None, i: int) -> Parsed:
    where = f"item {i}"
    if isinstance(item, str):
        if model is None:
            raise BadInputError(f"{where} is a str, so embed needs model=...", items=[i])
        check_model(model, where, i)
        check_text(item, where, i)
        return Parsed("text", item, model, options_dict(options, where, i))
    if isinstance(item, Mapping):
        fields = {k: item.get(k) for k in ("text", "image", "object") if k in item}
        get_model = item.get("model")
        get_options = item.get("options")
    else:
        fields = {k: getattr(item, k) for k in ("text", "image", "object") if hasattr(item, k)}
        get_model = getattr(item, "model", None)
        get_options = getattr(item, "options", None)
    if len(fields) != 1 or not isinstance(get_model, str):
        raise BadInputError(
            f"{where} must be a str, a Document, Image or InferenceObject, or a dict with one "
            f"of 'text', 'image', 'object' and a 'model'; got {type(item).__name__}",
            items=[i],
        )
    check_model(get_model, where, i)
    ((name, value),) = fields.items()
    kind = dict(KIND_FIELDS)[name]
    if kind == "text":
        if not isinstance(value, str):
            raise BadInputError(
                f"{where}: text must be a str, got {type(value).__name__}", items=[i]
            )
        check_text(value, where, i)
    return Parsed(kind, value, get_model, options_dict(get_options, where, i))


def check_model(model: str, where: str, i: int) -> None:
    """Refuse a model name over :data:`MAX_MODEL_BYTES`, naming the item and showing only the
    name's start."""
    if len(model) <= MAX_MODEL_BYTES // 4:  # short enough whatever its characters
        return
    size = len(model.encode("utf-8", "surrogatepass"))
    if size > MAX_MODEL_BYTES:
        raise BadInputError(
            f"{where}: model name {model[:64]!r}... is {size:,} bytes, over the limit of "
            f"{MAX_MODEL_BYTES} bytes for a model name",
            items=[i],
        )


def check_text(text: str, where: str, i: int) -> None:
    """Refuse text that is not valid Unicode (lone surrogates), naming the item, before it
    reaches a provider (which would fail its whole batch)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadInputError(
            f"{where}: text contains a lone surrogate at index {e.start}, which is not valid "
            "Unicode; fix the decoding upstream or clean it with "
            "text.encode('utf-8', 'replace').decode('utf-8')",
            items=[i],
        ) from None


def passthrough(item: Any, parsed: Parsed | None) -> Any:
    """The item as Qdrant takes it, for the server to embed."""
    if not isinstance(item, (str, Mapping)) or parsed is None:
        return item
    body: dict[str, Any] = {parsed.kind: parsed.value, "model": parsed.model}
    if parsed.options:
        body["options"] = parsed.options
    try:
        from qdrant_client import models
    except ImportError:
        return body
    if parsed.kind == "text":
        return models.Document(**body)
    if parsed.kind == "image":
        return models.Image(**body)
    return models.InferenceObject(**body)


def collect_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(
            f"headers must be a dict of header names to values, got {type(headers).__name__}"
        )
    merged: dict[str, str] = {}
    try:
        from qdrant_client.context_headers import get_context_headers
    except ImportError:
        pass
    else:
        merged.update({k.lower(): v for k, v in get_context_headers().items()})
    if headers:
        merged.update({str(k).lower(): v for k, v in headers.items()})
    for name, value in merged.items():
        if is_key_option(name) and isinstance(value, str):
            merged[name] = remember_secret(value, where=f"header {name!r}")
    return merged


def value_key(item: Item) -> str:
    value = item.value
    if isinstance(value, str):
        return f"{item.kind}:s:{value}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{item.kind}:b:{bytes(value).hex()}"
    try:
        return f"{item.kind}:j:{json.dumps(value, sort_keys=True)}"
    except (TypeError, ValueError):
        return f"{item.kind}:id:{id(value)}"
