"""A deterministic JSON value valid against a (structured-output style) JSON Schema.

Any JSON value is accepted as a schema: what this cannot read it ignores, so a client's odd schema
never makes the server fail (the value may then not satisfy it). A schema can multiply (five nested
arrays of `minItems: 100` ask for 10^10 strings), so one value holds at most `MAX_VALUES` values and
`MAX_CHARS` characters of padding: past them, arrays end early and the rest is null."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MAX_DEPTH = 8
MAX_VALUES, MAX_CHARS = 10_000, 100_000
_FORMATS = {"date": "2025-01-01", "date-time": "2025-01-01T00:00:00Z", "email": "user@example.com"}


@dataclass
class _Budget:
    """What is left to spend on one generated value."""

    values: int = MAX_VALUES
    chars: int = MAX_CHARS

    def take(self) -> bool:
        self.values -= 1
        return self.values >= 0

    def pad(self, wanted: int) -> int:
        granted = max(0, min(wanted, 10_000, self.chars))
        self.chars -= granted
        return granted


def _number_at(schema: dict[str, Any], key: str) -> float | None:
    value = schema.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _resolve(ref: Any, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    if not isinstance(ref, str):
        return {}
    for part in ref.removeprefix("#").strip("/").split("/"):
        if part:
            node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _string(schema: dict[str, Any], seed: str, budget: _Budget) -> str:
    value = _FORMATS.get(str(schema.get("format")), seed or "text")
    longest, shortest = _number_at(schema, "maxLength"), _number_at(schema, "minLength")
    value = value[: int(longest)] if longest is not None else value
    return value.ljust(budget.pad(int(shortest)), "x") if shortest is not None else value


def _number(schema: dict[str, Any]) -> int:
    low, above = _number_at(schema, "minimum"), _number_at(schema, "exclusiveMinimum")
    high = _number_at(schema, "maximum")
    if low is not None:
        return int(-(-low // 1))
    if above is not None:
        return int(above // 1) + 1
    return min(0, int(high // 1)) if high is not None else 0


def _object(schema: dict[str, Any], seed: str, root: dict[str, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}
    return {str(name): instance(sub, seed, root, depth + 1, budget) for name, sub in props.items()}


def _array(schema: dict[str, Any], seed: str, root: dict[str, Any], depth: int, budget: _Budget) -> list[Any]:
    fewest, most = _number_at(schema, "minItems"), _number_at(schema, "maxItems")
    count = 0 if most == 0 else min(max(int(fewest or 1), 1), 100)
    items: list[Any] = []
    while len(items) < count and budget.values > 0:
        items.append(instance(schema.get("items", {}), seed, root, depth + 1, budget))
    return items


def _pick_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((str(k) for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        return "object"
    return kind if isinstance(kind, str) else None


def _choice(schema: dict[str, Any]) -> Any:
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            not_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return (not_null or options)[0]
    return None


def _merged(parts: list[Any], root: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {"type": "object", "properties": {}}
    for part in parts:
        part = _resolve(part["$ref"], root) if isinstance(part, dict) and "$ref" in part else part
        if isinstance(part, dict) and isinstance(part.get("properties"), dict):
            merged["properties"].update(part["properties"])
    return merged


def instance(
    schema: Any, seed: str = "", root: dict[str, Any] | None = None, depth: int = 0, budget: _Budget | None = None
) -> Any:
    """A value for `schema`: every declared property filled in, strings from `seed`, numbers at their minimum."""
    budget = budget or _Budget()
    if not isinstance(schema, dict) or depth > _MAX_DEPTH or not budget.take():
        return None
    root = schema if root is None else root
    if "$ref" in schema:
        return instance(_resolve(schema["$ref"], root), seed, root, depth + 1, budget)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    choice = _choice(schema)
    if choice is not None:
        return instance(choice, seed, root, depth + 1, budget)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        return instance(_merged(schema["allOf"], root), seed, root, depth + 1, budget)
    kind = _pick_type(schema)
    if kind in ("integer", "number"):
        return _number(schema)
    simple = {"boolean": True, "null": None}
    if kind in simple:
        return simple[kind]
    if kind == "object":
        return _object(schema, seed, root, depth, budget)
    if kind == "array":
        return _array(schema, seed, root, depth, budget)
    return _string(schema, seed, budget)
