"""The generic walk over qdrant-client's request models behind :mod:`bm25x.qdrant`: find every
inference item (``Document``, ``Image``, ``InferenceObject``) inside any model, list or dict,
with the vector name it fills, and swap resolved vectors back in, sharing what did not change.
Nothing here knows about BM25 or about a particular qdrant-client method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel
from qdrant_client import models

from bm25x._sparse import SparseVector

__all__ = [
    "INFERENCE_TYPES",
    "Found",
    "InferenceItem",
    "as_qdrant",
    "collect",
    "dense_size",
    "replace",
    "text_of",
]

InferenceItem = models.Document | models.Image | models.InferenceObject
INFERENCE_TYPES = (models.Document, models.Image, models.InferenceObject)
SKIP_FIELDS = frozenset(
    {"payload", "payloads", "filter", "params", "with_payload", "with_vector", "lookup_from"}
)
"""Model fields that never hold vectors (user payloads are not searched for documents)."""


def as_qdrant(value: Any) -> Any:
    """A resolver result in the form qdrant-client models take."""
    if isinstance(value, SparseVector):
        return models.SparseVector(indices=value.indices.tolist(), values=value.values.tolist())
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).tolist()
    if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
        return [np.asarray(v, dtype=np.float64).tolist() for v in value]
    return value


@dataclass
class Found:
    item: InferenceItem
    name: str
    """Vector name it fills ("" for the default vector)."""


def collect(obj: Any, name: str, out: dict[int, Found]) -> None:
    """Every inference item inside ``obj`` (models, lists, dicts), with its vector name."""
    if isinstance(obj, INFERENCE_TYPES):
        out.setdefault(id(obj), Found(obj, name))
    elif isinstance(obj, BaseModel):
        using = getattr(obj, "using", None)
        inner = using if isinstance(using, str) else name
        for field in type(obj).model_fields:
            if field not in SKIP_FIELDS:
                collect(getattr(obj, field), inner, out)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            collect(value, str(key), out)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            collect(value, name, out)


def replace(obj: Any, done: Mapping[int, Any]) -> Any:
    """``obj`` with resolved items swapped in; unchanged parts are shared, not copied."""
    if isinstance(obj, INFERENCE_TYPES):
        return done.get(id(obj), obj)
    if isinstance(obj, BaseModel):
        update = {}
        for field in type(obj).model_fields:
            if field in SKIP_FIELDS:
                continue
            value = getattr(obj, field)
            new = replace(value, done)
            if new is not value:
                update[field] = new
        return obj.model_copy(update=update) if update else obj
    if isinstance(obj, dict):
        new_items = {k: replace(v, done) for k, v in obj.items()}
        changed = any(new_items[k] is not v for k, v in obj.items())
        return new_items if changed else obj
    if isinstance(obj, (list, tuple)):
        new_list = [replace(v, done) for v in obj]
        if any(a is not b for a, b in zip(new_list, obj)):
            return type(obj)(new_list) if isinstance(obj, tuple) else new_list
        return obj
    return obj


def dense_size(value: Any) -> int | None:
    """The length of a plain dense vector, else None."""
    if isinstance(value, list) and value and isinstance(value[0], (int, float)):
        return len(value)
    return None


def text_of(found: Sequence[Found]) -> Any:
    """What ``store_text`` copies into a payload: the one text, or ``{vector: text}``."""
    texts = {f.name: f.item.text for f in found if isinstance(f.item, models.Document)}
    if not texts:
        return None
    distinct = set(texts.values())
    return distinct.pop() if len(distinct) == 1 else texts
