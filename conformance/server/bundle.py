"""The generated JSON Schema bundle as the server sees it: its operations and validators.

Everything the server knows about paths, request bodies and event types comes from here, so that a
regenerated bundle changes what the server serves and checks."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker

from respkit.generator.spec_view import Operation, operations


@cache
def bundle() -> dict[str, Any]:
    """`generated/schema.json`: the published spec's closure of /responses plus overlays."""
    text = resources.files("respkit.generated").joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def spec_operations() -> tuple[Operation, ...]:
    return tuple(operations(bundle()))


#: the reader files whose leniency the server's request parsing takes (OpenAI's documented requests)
REQUEST_READERS = "-requests.yaml"


@cache
def request_bundle() -> dict[str, Any]:
    """The bundle as the server reads requests: with the request leniency of `spec/readers/*-requests.yaml`,
    so that it accepts what OpenAI's own documentation sends, and OpenAI's integer range. What the server
    answers is held to `bundle()`. The readers for what providers omit are for the models only: they never
    loosen what the server accepts (a `code_interpreter` tool without `container` is a 400, as at OpenAI)."""
    from respkit.generator.overlay import apply_entries

    readers: list[dict[str, Any]] = list(bundle().get("x-respkit-readers", []))
    entries = [e for e in readers if str(e.get("file", "")).endswith(REQUEST_READERS)]
    read = apply_entries(bundle(), entries, "readers") if entries else bundle()
    return {**read, "components": _with_integer_range(read["components"])}


#: OpenAI refuses an integer outside 32 bits ("integer above maximum value. Expected a value <= 2147483647");
#: the spec bounds few of its integers, and JSON Schema's `integer` takes 1e30.
INTEGER_RANGE = (-(2**31), 2**31 - 1)


def _with_integer_range(node: Any) -> Any:
    """A copy of `node` in which every `type: integer` schema without a bound has OpenAI's."""
    if isinstance(node, list):
        return [_with_integer_range(child) for child in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _with_integer_range(child) for key, child in node.items()}
    if copy.get("type") == "integer":
        copy.setdefault("minimum", INTEGER_RANGE[0])
        copy.setdefault("maximum", INTEGER_RANGE[1])
    return copy


def _root(schema_name: str, document: dict[str, Any]) -> dict[str, Any]:
    components = document["components"]
    if schema_name not in components["schemas"]:
        raise KeyError(f"schema {schema_name!r} is not in the bundle")
    return {"$ref": f"#/components/schemas/{schema_name}", "components": components}


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for one named component schema as published (what the server answers is held to it)."""
    return Draft202012Validator(_root(schema_name, bundle()))


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


def is_uri(value: object) -> bool:
    """`format: uri` as a request is checked: a scheme, a colon, then no whitespace (RFC 3986's absolute
    form, loosely: `https://...` and `data:image/png;base64,...` both pass, an empty string does not)."""
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


#: the formats a request's members are checked for (the spec's others, `float` and `unixtime`, say nothing
#: a type does not); OpenAI refuses an empty or malformed `server_url`, `file_url` or `image_url`
REQUEST_FORMATS = {"uri": is_uri}


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("uri")(is_uri)
    return checker


@cache
def request_validator(schema_name: str) -> Draft202012Validator:
    """A validator for a request body's schema (the bundle with the readers applied), formats checked."""
    return Draft202012Validator(_root(schema_name, request_bundle()), format_checker=_format_checker())


def _fast(schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(schema, formats=REQUEST_FORMATS, validate_formats=True)


@cache
def fast_request_validator(schema_name: str) -> jsonschema_rs.Draft202012Validator:
    """The same request schema compiled by jsonschema-rs: a quick yes/no (`request_validator` explains a no)."""
    return _fast(_root(schema_name, request_bundle()))


@cache
def top_level_properties(schema_name: str) -> frozenset[str]:
    """The members a request body may have: the properties of its schema and of what it combines
    (`$ref`, `allOf`, `anyOf`, `oneOf`), as OpenAI refuses any other with `unknown_parameter`."""
    return frozenset(_properties(request_bundle()["components"]["schemas"][schema_name]))


def _properties(schema: Any) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    found = set(schema.get("properties") or {})
    if isinstance(schema.get("$ref"), str):
        found |= _properties(_resolve(schema["$ref"]))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            found |= _properties(part)
    return found


def _resolve(ref: str) -> Any:
    node: Any = request_bundle()
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


_fast_subschemas: dict[int, tuple[Any, jsonschema_rs.Draft202012Validator]] = {}


def fast_subschema_validator(subschema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    """jsonschema-rs compiled for one schema inside the request bundle (its `$ref`s resolve in the bundle's
    components); one per schema object, kept with it so that its id is never reused."""
    known = _fast_subschemas.get(id(subschema))
    if known is None:
        compiled = _fast({**subschema, "components": request_bundle()["components"]})
        known = _fast_subschemas[id(subschema)] = (subschema, compiled)
    return known[1]
