"""The generated JSON Schema bundle as the server sees it: its operations and validators.

Everything the server knows about paths, request bodies and event types comes from here, so that a
regenerated bundle changes what the server serves and checks."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from generator.spec_view import Operation, operations


@cache
def bundle() -> dict[str, Any]:
    """`generated/schema.json`: the published spec's closure of /responses plus overlays."""
    text = resources.files("generated").joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def spec_operations() -> tuple[Operation, ...]:
    return tuple(operations(bundle()))


@cache
def request_bundle() -> dict[str, Any]:
    """The bundle as the server reads requests: with the readers' leniency (`x-respkit-readers`), so that
    it accepts what OpenAI's own documentation sends. What the server answers is held to `bundle()`."""
    from generator.overlay import apply_entries

    entries: list[dict[str, Any]] = list(bundle().get("x-respkit-readers", []))
    return apply_entries(bundle(), entries, "readers") if entries else bundle()


def _root(schema_name: str, document: dict[str, Any]) -> dict[str, Any]:
    components = document["components"]
    if schema_name not in components["schemas"]:
        raise KeyError(f"schema {schema_name!r} is not in the bundle")
    return {"$ref": f"#/components/schemas/{schema_name}", "components": components}


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for one named component schema as published (what the server answers is held to it)."""
    return Draft202012Validator(_root(schema_name, bundle()))


@cache
def request_validator(schema_name: str) -> Draft202012Validator:
    """A validator for a request body's schema (the bundle with the readers applied)."""
    return Draft202012Validator(_root(schema_name, request_bundle()))


@cache
def fast_request_validator(schema_name: str) -> jsonschema_rs.Draft202012Validator:
    """The same request schema compiled by jsonschema-rs: a quick yes/no (`request_validator` explains a no)."""
    return jsonschema_rs.Draft202012Validator(_root(schema_name, request_bundle()))
