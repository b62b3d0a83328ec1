"""Options in one canonical form: every path that reads a model's options (the Qdrant client's
grouping, :func:`bm25x.embed`'s parsing, the bm25 encoder cache, the server-options reading,
the settings ``bm25x ingest`` saves with a collection) turns them into plain JSON here, by one
rule, and keys its caches with :func:`options_key` of that form.

The rule: qdrant-client models are dumped without their ``None`` fields, enums become their
values, numpy scalars and arrays become Python numbers and lists, tuples become lists, sets
become lists sorted by their JSON text, mappings keep string keys only; a float must be finite
and nesting is bounded by :data:`MAX_DEPTH`. Anything else is refused, naming the option."""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping, Set
from typing import Any

from bm25x._native import OptionError

__all__ = ["KEY_SUFFIX", "MAX_DEPTH", "canonical_json", "is_key_option", "options_key", "plain"]

#: An option (or header) whose name ends so holds a provider's API key (``openai-api-key``);
#: Qdrant forwards every client header so named to the inference service.
KEY_SUFFIX = "-api-key"

#: Options are a few levels deep (``{"stopwords": {"custom": [...]}}``); deeper is a mistake.
MAX_DEPTH = 32


def is_key_option(name: str) -> bool:
    """Whether the option (or header) ``name`` holds an API key, whatever its case."""
    return name.lower().endswith(KEY_SUFFIX)


def plain(value: Any, name: str = "options", depth: int = 0) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None) by the rule in
    this module's docstring; ``TypeError`` (or :class:`bm25x.OptionError` for a non-finite
    number) naming the option (``name``, with its path inside: ``stopwords.custom[2]``) for
    what has no JSON form. Strings keep their type (a ``Secret`` stays masked)."""
    if depth > MAX_DEPTH:
        raise TypeError(
            f"option {name!r} is nested more than {MAX_DEPTH} levels deep; "
            "options are flat values, lists and small objects"
        )
    if isinstance(value, enum.Enum):
        value = value.value
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist) and hasattr(value, "dtype"):
        value = tolist()
    dump = getattr(value, "model_dump", None)  # qdrant-client's models
    if callable(dump):
        value = dump(exclude_none=True)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OptionError(f"option {name!r} must be a finite number, got {value!r}")
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"option {name!r}: keys must be strings, got {key!r}")
            out[str(key)] = plain(item, f"{name}.{key}", depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(item, f"{name}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Set):
        items = [plain(item, f"{name}[]", depth + 1) for item in value]
        return sorted(items, key=canonical_json)
    raise TypeError(
        f"option {name!r}: a {type(value).__name__} cannot be saved as JSON; "
        "give a number, string, bool, list or JSON object"
    )


def canonical_json(value: Any) -> str:
    """The canonical JSON text of plain data: keys sorted, no spaces, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def options_key(options: Any) -> bytes:
    """A stable cache key for ``options`` (``None`` counts as no options): the SHA-256 of
    their canonical JSON (32 bytes), so equal options give equal keys whatever their dict order or
    spelling (numpy scalars or Python numbers, enums or their values, models or dicts), and
    no key's value is kept in clear."""
    data = canonical_json(plain({} if options is None else options))
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).digest()
