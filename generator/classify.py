"""Who a spec change breaks.

A schema reached from a request body or a parameter is written by clients and read by providers; a
schema reached from a response (JSON body, stream event, error) is written by providers and read by
clients. A change that widens what a schema allows (a new enum value, a new type, null allowed, a field
no longer required) breaks its strict readers; a change that narrows it (a value dropped, a field made
required, a new required field) breaks its writers. A removed property, parameter, operation or schema
breaks clients either way: their code or their requests use it.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from respkit.generator import pointer
from respkit.generator.closure import REF_KEYS
from respkit.generator.spec_view import HTTP_METHODS

CLIENTS, PROVIDERS = "clients", "providers"
REQUEST, RESPONSE = "request", "response"
BOTH = frozenset([REQUEST, RESPONSE])
ADDITIVE: frozenset[str] = frozenset()

#: Impacts in the order a report lists them: breaking first.
IMPACTS = (
    frozenset([CLIENTS, PROVIDERS]),
    frozenset([CLIENTS]),
    frozenset([PROVIDERS]),
    ADDITIVE,
)
LABELS = {
    IMPACTS[0]: "breaking for clients and providers",
    IMPACTS[1]: "breaking for clients",
    IMPACTS[2]: "breaking for providers",
    ADDITIVE: "additive or compatible",
}
KEYS = {
    IMPACTS[0]: "breaking-both",
    IMPACTS[1]: "breaking-clients",
    IMPACTS[2]: "breaking-providers",
    ADDITIVE: "additive",
}


def readers(directions: frozenset[str]) -> frozenset[str]:
    """Who reads values of a schema used in these directions (and breaks when it widens)."""
    return frozenset(CLIENTS if d == RESPONSE else PROVIDERS for d in directions or BOTH)


def writers(directions: frozenset[str]) -> frozenset[str]:
    """Who writes values of a schema used in these directions (and breaks when it narrows)."""
    return frozenset(PROVIDERS if d == RESPONSE else CLIENTS for d in directions or BOTH)


def removed() -> frozenset[str]:
    return frozenset([CLIENTS])


def _refs(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in REF_KEYS and isinstance(value, str):
                out.append(value)
            elif key not in ("example", "examples", "x-oaiMeta"):
                _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def _roots(document: dict[str, Any]) -> dict[str, list[str]]:
    roots: dict[str, list[str]] = {REQUEST: [], RESPONSE: []}
    for item in document.get("paths", {}).values():
        _refs(item.get("parameters", []), roots[REQUEST])
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                _refs([op.get("parameters", []), op.get("requestBody", {})], roots[REQUEST])
                _refs(op.get("responses", {}), roots[RESPONSE])
    return roots


def directions(document: dict[str, Any]) -> dict[str, frozenset[str]]:
    """For each component (by its ``$ref``), the directions it is used in."""
    found: dict[str, set[str]] = {}
    for direction, start in _roots(document).items():
        queue = deque(start)
        while queue:
            ref = queue.popleft()
            seen = found.setdefault(ref, set())
            if direction in seen or not ref.startswith("#/components/"):
                continue
            seen.add(direction)
            try:
                node = pointer.resolve(document, ref)
            except (KeyError, ValueError):
                continue
            more: list[str] = []
            _refs(node, more)
            queue.extend(more)
    return {ref: frozenset(d) for ref, d in found.items()}
