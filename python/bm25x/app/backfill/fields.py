"""A point's text: a payload key, or a dotted path into nested objects (``meta.body``), read
from what a scroll returns; a point without usable text is a :class:`Problem`, never an empty
vector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["EMPTY", "MISSING", "NOT_TEXT", "FieldPath", "Problem"]

MISSING = "missing"
"""The payload has no value at the path (or a value on the way is not an object)."""
EMPTY = "empty"
"""The value is a string with no visible character (``""``, spaces, newlines)."""
NOT_TEXT = "not a string"
"""The value is a number, a list, an object, a boolean or null."""


@dataclass(frozen=True)
class Problem:
    """A point whose field cannot be encoded: its id, which problem, and for ``NOT_TEXT`` the
    JSON type found (``"number"``, ``"array"``, ...)."""

    id: int | str
    problem: str
    found: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "problem": self.problem}
        if self.found is not None:
            out["found"] = self.found
        return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


@dataclass(frozen=True)
class FieldPath:
    """``text`` (a key) or ``meta.body`` (``payload["meta"]["body"]``)."""

    path: str

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise ValueError("the field must be a payload key, e.g. 'text' or 'meta.body'")
        if any(not part for part in self.path.split(".")):
            raise ValueError(
                f"field {self.path!r}: a dotted path needs a key between every two dots"
            )

    @property
    def keys(self) -> list[str]:
        return self.path.split(".")

    def text(self, point_id: int | str, payload: Mapping[str, Any] | None) -> str | Problem:
        """The text at the path in ``payload``, or the problem that keeps the point from
        having one."""
        value: Any = payload if payload is not None else {}
        for key in self.keys:
            if not isinstance(value, Mapping) or key not in value:
                return Problem(point_id, MISSING)
            value = value[key]
        if not isinstance(value, str):
            return Problem(point_id, NOT_TEXT, _json_type(value))
        if not value.strip():
            return Problem(point_id, EMPTY)
        return value
