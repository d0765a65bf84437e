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


def _root(schema_name: str) -> dict[str, Any]:
    if schema_name not in bundle()["components"]["schemas"]:
        raise KeyError(f"schema {schema_name!r} is not in the bundle")
    return {"$ref": f"#/components/schemas/{schema_name}", "components": bundle()["components"]}


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for one named component schema of the bundle (as published: no errata applied)."""
    return Draft202012Validator(_root(schema_name))


@cache
def fast_validator(schema_name: str) -> jsonschema_rs.Draft202012Validator:
    """The same schema compiled by jsonschema-rs: a quick yes/no (`validator` explains a no)."""
    return jsonschema_rs.Draft202012Validator(_root(schema_name))
