"""Qdrant's filter JSON (what ``--filter`` and the REST API take) as qdrant-edge objects, so one
filter selects the same points on an Edge shard as on a server.

Covered: ``must`` / ``should`` / ``must_not`` / ``min_should``, filters nested as conditions,
and the conditions ``key`` + ``match`` (``value``, ``any``, ``except``, ``text``, ``text_any``,
``phrase``, ``prefix``, ``substring``), ``key`` + ``range`` (numbers, or RFC 3339 date-times),
``key`` + ``values_count`` / ``geo_radius`` / ``geo_bounding_box`` / ``is_empty`` /
``is_null``, ``is_empty``, ``is_null``, ``has_id``, ``has_vector`` and ``nested``. Anything
else is refused by name (a filter that silently selected other points would fill the wrong
ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["edge_filter"]

_MATCHES = {
    "value": "MatchValue",
    "any": "MatchAny",
    "except": "MatchExcept",
    "text": "MatchText",
    "text_any": "MatchTextAny",
    "phrase": "MatchPhrase",
    "prefix": "MatchPrefix",
    "substring": "MatchSubstring",
}
_CLAUSES = ("must", "should", "must_not", "min_should")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"filter: {where} must be a JSON object, got {value!r}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if isinstance(value, Mapping):
        return [value]  # Qdrant takes one condition where it takes a list
    if not isinstance(value, list):
        raise ValueError(f"filter: {where} must be a list of conditions, got {value!r}")
    return value


def edge_filter(spec: Mapping[str, Any], where: str = "the filter") -> Any:
    """The qdrant-edge ``Filter`` for a Qdrant filter object."""
    import qdrant_edge as qe

    spec = _object(spec, where)
    unknown = set(spec) - set(_CLAUSES)
    if unknown:
        raise ValueError(f"filter: {where} has unknown clauses {sorted(unknown)}")
    clauses: dict[str, Any] = {}
    for clause in ("must", "should", "must_not"):
        if spec.get(clause) is not None:
            items = _list(spec[clause], f"{where}.{clause}")
            clauses[clause] = [_condition(c, f"{where}.{clause}[{i}]") for i, c in enumerate(items)]
    if spec.get("min_should") is not None:
        ms = _object(spec["min_should"], f"{where}.min_should")
        items = _list(ms.get("conditions"), f"{where}.min_should.conditions")
        clauses["min_should"] = qe.MinShould(
            [_condition(c, f"{where}.min_should.conditions[{i}]") for i, c in enumerate(items)],
            int(ms.get("min_count", 1)),
        )
    return qe.Filter(**clauses)


def _range(spec: Mapping[str, Any], where: str) -> Any:
    import qdrant_edge as qe

    bounds = {k: spec[k] for k in ("gt", "gte", "lt", "lte") if spec.get(k) is not None}
    if set(spec) - {"gt", "gte", "lt", "lte"}:
        raise ValueError(f"filter: {where} takes gt, gte, lt, lte")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds.values()):
        return qe.RangeFloat(**{k: float(v) for k, v in bounds.items()})
    if all(isinstance(v, str) for v in bounds.values()):
        return qe.RangeDateTime(**bounds)
    raise ValueError(f"filter: {where} bounds must be all numbers or all date-time strings")


def _geo_point(spec: Any, where: str) -> Any:
    import qdrant_edge as qe

    point = _object(spec, where)
    return qe.GeoPoint(lon=float(point["lon"]), lat=float(point["lat"]))


def _field(spec: Mapping[str, Any], where: str) -> Any:
    import qdrant_edge as qe

    key = spec["key"]
    if not isinstance(key, str):
        raise ValueError(f"filter: {where}.key must be a string")
    args: dict[str, Any] = {}
    for name, value in spec.items():
        if name == "key" or value is None:
            continue
        if name == "match":
            match = _object(value, f"{where}.match")
            if len(match) != 1 or next(iter(match)) not in _MATCHES:
                raise ValueError(
                    f"filter: {where}.match must be one of {sorted(_MATCHES)}, got {dict(match)}"
                )
            kind, operand = next(iter(match.items()))
            args["match"] = getattr(qe, _MATCHES[kind])(operand)
        elif name == "range":
            args["range"] = _range(_object(value, f"{where}.range"), f"{where}.range")
        elif name == "values_count":
            args["values_count"] = qe.ValuesCount(**_object(value, f"{where}.values_count"))
        elif name == "geo_radius":
            geo = _object(value, f"{where}.geo_radius")
            args["geo_radius"] = qe.GeoRadius(
                _geo_point(geo["center"], f"{where}.geo_radius.center"), float(geo["radius"])
            )
        elif name == "geo_bounding_box":
            box = _object(value, f"{where}.geo_bounding_box")
            args["geo_bounding_box"] = qe.GeoBoundingBox(
                _geo_point(box["top_left"], f"{where}.geo_bounding_box.top_left"),
                _geo_point(box["bottom_right"], f"{where}.geo_bounding_box.bottom_right"),
            )
        elif name in ("is_empty", "is_null"):
            args[name] = bool(value)
        else:
            raise ValueError(f"filter: {where}.{name} is not supported on an Edge shard")
    return qe.FieldCondition(key, **args)


def _condition(spec: Any, where: str) -> Any:
    import qdrant_edge as qe

    spec = _object(spec, where)
    if "key" in spec:
        return _field(spec, where)
    if set(spec) <= set(_CLAUSES):
        return edge_filter(spec, where)
    if len(spec) != 1:
        raise ValueError(f"filter: {where} is not a condition Qdrant knows: {dict(spec)}")
    kind, value = next(iter(spec.items()))
    if kind in ("is_empty", "is_null"):
        key = _object(value, f"{where}.{kind}")["key"]
        return qe.IsEmptyCondition(key) if kind == "is_empty" else qe.IsNullCondition(key)
    if kind == "has_id":
        return qe.HasIdCondition(set(_list(value, f"{where}.has_id")))
    if kind == "has_vector":
        return qe.HasVectorCondition(str(value))
    if kind == "nested":
        nested = _object(value, f"{where}.nested")
        return qe.NestedCondition(
            nested["key"], edge_filter(nested["filter"], f"{where}.nested.filter")
        )
    raise ValueError(f"filter: {where}.{kind} is not supported on an Edge shard")
