"""Which operation a recorded JSON body answers, from what it is, when no sidecar says so.

A body names its kind in `object` (`response`, `list`, `response.compaction`, ...): each operation's
2xx schema fixes that tag, so the spec itself says which tag belongs to which operation. An operation
the spec gives no body schema (deleteResponse) is known by the members of its documented example.
A body that fits none is checked as a `Response` (the answer of `POST /responses`, the common case),
where its findings say what is wrong; one that fits several is reported as ambiguous, not guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from respkit.conformance.schema import SpecValidators, default_validators

#: the operation a body that fits no other is checked as
FALLBACK = "createResponse"


@dataclass(frozen=True)
class Match:
    """The operation a body answers (None: ambiguous), and the operations it could answer."""

    operation: str | None
    candidates: tuple[str, ...]


def infer(body: Any, validators: SpecValidators | None = None) -> Match:
    val = validators or default_validators()
    tags, shapes = _tags(val), _shapes(val)
    tag = body.get("object") if isinstance(body, dict) else None
    if isinstance(tag, str) and tag in tags:
        return Match(tags[tag], (tags[tag],))
    members = set(body) if isinstance(body, dict) else set()
    shaped = tuple(op for op, keys in shapes.items() if keys and keys <= members)
    if len(shaped) > 1:
        return Match(None, shaped)
    return Match(shaped[0] if shaped else FALLBACK, shaped or (FALLBACK,))


@cache
def _tags(val: SpecValidators) -> dict[str, str]:
    """`object` tag -> the first operation whose 2xx schema fixes it (operations sharing a schema agree)."""
    schemas = val.lenient_doc["components"]["schemas"]
    found: dict[str, str] = {}
    for op, name in val.response_schemas.items():
        for tag in _object_values(schemas.get(name or "", {}), schemas) if name else ():
            found.setdefault(tag, op)
    return found


def _object_values(schema: Any, schemas: dict[str, Any], depth: int = 0) -> list[str]:
    """The values a schema allows for its `object` member (through `allOf` and `$ref`)."""
    if not isinstance(schema, dict) or depth > 8:
        return []
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return _object_values(schemas.get(ref.rsplit("/", 1)[1]), schemas, depth + 1)
    prop = (schema.get("properties") or {}).get("object")
    if isinstance(prop, dict):
        values = prop.get("enum") or ([prop["const"]] if "const" in prop else [])
        return [v for v in values if isinstance(v, str)]
    return [v for part in schema.get("allOf", []) for v in _object_values(part, schemas, depth + 1)]


@cache
def _shapes(val: SpecValidators) -> dict[str, frozenset[str]]:
    """For each operation the spec gives no body schema: the members of its documented example body."""
    shapes: dict[str, frozenset[str]] = {}
    for methods in (val.bundle.get("paths") or {}).values():
        for op in methods.values() if isinstance(methods, dict) else ():
            if isinstance(op, dict) and val.response_schemas.get(op.get("operationId", ""), "") is None:
                shapes[op["operationId"]] = _example_members(op)
    return shapes


def _example_members(op: dict[str, Any]) -> frozenset[str]:
    example = ((op.get("x-oaiMeta") or {}).get("examples") or {}).get("response")
    try:
        value = json.loads(example) if isinstance(example, str) else example
    except ValueError:
        return frozenset()
    return frozenset(value) if isinstance(value, dict) else frozenset()
