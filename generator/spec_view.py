"""What templates and checks need to know about a closure: operations and stream event types."""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any

from respkit.generator import pointer

STREAM_UNION = "ResponseStreamEvent"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def schema_name(ref: str) -> str:
    return pointer.split(ref)[-1]


def tag_values(schema: dict[str, Any]) -> list[str]:
    """The values a schema's `type` property allows (its discriminator tags)."""
    prop = schema.get("properties", {}).get("type", {})
    if "const" in prop:
        return [prop["const"]]
    return [v for v in prop.get("enum", []) if isinstance(v, str)]


def stream_event_types(document: dict[str, Any]) -> dict[str, str]:
    """Map each stream event `type` to the name of its schema, in the spec's order."""
    schemas = document["components"]["schemas"]
    union = schemas.get(STREAM_UNION, {})
    out: dict[str, str] = {}
    for variant in union.get("anyOf", union.get("oneOf", [])):
        if "$ref" not in variant:
            continue
        name = schema_name(variant["$ref"])
        for tag in tag_values(schemas[name]):
            out[tag] = name
    return out


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    description: str
    #: a Python annotation for the client's argument (names `Any`, `Literal`, `Sequence`, `_Object`)
    annotation: str = field(default="Any")

    @property
    def python_name(self) -> str:
        return python_name(self.name)


@dataclass(frozen=True)
class BodyField:
    """A top-level property of an operation's JSON request body (allOf flattened)."""

    name: str
    annotation: str
    required: bool
    description: str

    @property
    def python_name(self) -> str:
        return python_name(self.name)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    summary: str
    parameters: tuple[Parameter, ...]
    request_schema: str | None
    response_schema: str | None
    content_types: tuple[str, ...]
    streams: bool = field(default=False)
    #: the request body's top-level properties, for the client's keyword arguments (`stream` excluded)
    body_fields: tuple[BodyField, ...] = field(default=())
    body_required: bool = field(default=False)
    #: where a `stream` switch lives: "body", "query", or None
    stream_in: str | None = field(default=None)
    #: cursor pagination: an `after` query parameter and a `data`/`has_more`/`last_id` list body
    paginated: bool = field(default=False)
    #: the first sentence of the summary (or description), on one line, safe inside a docstring
    doc: str = field(default="")

    @property
    def namespace(self) -> str:
        """The client attribute path of the operation's resource, e.g. `responses.input_items`."""
        return ".".join(client_name(self.method, self.path)[0])

    @property
    def method_name(self) -> str:
        """The client method's name, e.g. `create`, `retrieve`, `cancel`, `list`."""
        return client_name(self.method, self.path)[1]

    @property
    def path_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")

    @property
    def query_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")


# The one name the rule below would choose differently from the official SDK's.
NAME_OVERRIDES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("POST", "/responses/input_tokens"): (("responses", "input_tokens"), "count"),
}
_VERBS = {
    ("POST", False): "create",
    ("GET", False): "list",
    ("GET", True): "retrieve",
    ("DELETE", True): "delete",
    ("POST", True): "update",
    ("PUT", True): "update",
    ("PATCH", True): "update",
}


def client_name(method: str, path: str) -> tuple[tuple[str, ...], str]:
    """Where an operation lives on the client, by rule: `/things` POST -> things.create, GET -> things.list;
    `/things/{id}` GET -> things.retrieve, DELETE -> things.delete; `/things/{id}/act` POST -> things.act;
    `/things/{id}/subs` GET -> things.subs.list; `/things/act` POST -> things.act."""
    method = method.upper()
    if (method, path) in NAME_OVERRIDES:
        return NAME_OVERRIDES[(method, path)]
    segments = [s for s in path.strip("/").split("/") if s]
    resource, rest = segments[0], segments[1:]
    literals = [s for s in rest if not s.startswith("{")]
    if not literals:
        verb = _VERBS.get((method, bool(rest)), method.lower())
        return (python_name(resource),), verb
    last = python_name(literals[-1])
    if method == "GET":
        return (python_name(resource), last), "list"
    return (python_name(resource),), last


def first_sentence(text: str) -> str:
    """The first sentence of a text, on one line, with nothing that could end a docstring."""
    flat = " ".join(text.split())
    end = flat.find(". ")
    flat = flat[: end + 1] if end >= 0 else flat
    return flat.replace("\\", "\\\\").replace('"', "'")


def python_name(name: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return f"{name}_" if keyword.iskeyword(name) or name == "self" else name


def annotation(document: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> str:
    """A permissive Python annotation for a request value of `schema`: objects take a mapping or a model."""
    if depth > 8:
        return "Any"
    if "$ref" in schema:
        return annotation(document, _deref(document, schema), depth + 1)
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        parts: list[str] = []
        for variant in variants:
            for part in _split_union(annotation(document, variant, depth + 1)):
                if part not in parts:
                    parts.append(part)
        if "Any" in parts:
            return "Any"
        if "str" in parts:
            parts = [p for p in parts if not p.startswith("Literal[")]
        return " | ".join(parts)
    if len(schema.get("allOf", [])) == 1:
        return annotation(document, schema["allOf"][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(annotation(document, {**schema, "type": k}, depth + 1) for k in kind)
    if kind == "string":
        enum = schema.get("enum")
        if enum and all(isinstance(v, str) for v in enum):
            return "Literal[" + ", ".join(repr(v) for v in enum) + "]"
        return "str"
    simple = {"integer": "int", "number": "float", "boolean": "bool", "null": "None"}
    if kind in simple:
        return simple[kind]
    if kind == "array":
        return f"Sequence[{annotation(document, schema.get('items', {}), depth + 1)}]"
    if kind == "object" or "properties" in schema or "allOf" in schema:
        return "_Object"
    return "Any"


def _split_union(text: str) -> list[str]:
    """Split a rendered union at its top level (brackets may hold `|` of their own)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "["
        depth -= char == "]"
        if depth == 0 and text.startswith(" | ", i):
            parts.append(text[start:i])
            start = i + 3
    parts.append(text[start:])
    return parts


def body_fields(document: dict[str, Any], schema: dict[str, Any]) -> tuple[list[BodyField], bool]:
    """The top-level properties of a request body schema, flattening allOf, and whether any is required."""
    props: dict[str, dict[str, Any]] = {}
    required: set[str] = set()

    def walk(node: dict[str, Any], depth: int = 0) -> None:
        node = _deref(document, node)
        for part in node.get("allOf", []):
            walk(part, depth + 1)
        for name, prop in node.get("properties", {}).items():
            props.setdefault(name, prop)
        required.update(node.get("required", []))

    walk(schema)
    fields = [
        BodyField(
            name=name,
            annotation=annotation(document, prop),
            required=name in required,
            description=(_deref(document, prop).get("description") or "").strip().split("\n")[0],
        )
        for name, prop in props.items()
    ]
    return fields, bool(required)


def _paginated(document: dict[str, Any], schema: dict[str, Any], params: list[dict[str, Any]]) -> bool:
    props = _deref(document, schema).get("properties", {}) if schema else {}
    has_cursor = any(p.get("name") == "after" and p.get("in") == "query" for p in params)
    return has_cursor and {"data", "has_more", "last_id"} <= set(props)


def _deref(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = pointer.resolve(document, node["$ref"])
    return node


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of the closure's paths, in path order, then method order."""
    out = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = [_deref(document, p) for p in [*shared, *op.get("parameters", [])]]
            body = _deref(document, op.get("requestBody", {})) if op.get("requestBody") else {}
            body_schema = body.get("content", {}).get("application/json", {}).get("schema", {})
            ok: dict[str, Any] = next(
                (r for code, r in op.get("responses", {}).items() if str(code).startswith("2")), {}
            )
            ok = _deref(document, ok) if ok else {}
            content = ok.get("content", {})
            json_schema = content.get("application/json", {}).get("schema", {})
            fields, body_required = body_fields(document, body_schema) if body_schema else ([], False)
            stream_in = "body" if any(f.name == "stream" for f in fields) else None
            if any(p.get("name") == "stream" and p.get("in") == "query" for p in params):
                stream_in = "query"
            out.append(
                Operation(
                    operation_id=op.get("operationId", f"{method}_{path}"),
                    method=method.upper(),
                    path=path,
                    summary=(op.get("summary") or op.get("description") or "").strip().split("\n")[0],
                    parameters=tuple(
                        Parameter(
                            name=p["name"],
                            location=p.get("in", "query"),
                            required=bool(p.get("required")),
                            schema=p.get("schema", {}),
                            description=(p.get("description") or "").strip().split("\n")[0],
                            annotation=annotation(document, p.get("schema", {})),
                        )
                        for p in params
                    ),
                    request_schema=schema_name(body_schema["$ref"]) if "$ref" in body_schema else None,
                    response_schema=schema_name(json_schema["$ref"]) if "$ref" in json_schema else None,
                    content_types=tuple(content),
                    streams="text/event-stream" in content,
                    body_fields=tuple(f for f in fields if f.name != "stream"),
                    body_required=body_required or bool(body.get("required")),
                    stream_in=stream_in,
                    paginated=_paginated(document, json_schema, params),
                    doc=first_sentence(op.get("summary") or op.get("description") or ""),
                )
            )
    return out
