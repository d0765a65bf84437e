"""What templates and checks need to know about a closure: operations and stream event types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator import pointer

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

    @property
    def path_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")

    @property
    def query_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")


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
                        )
                        for p in params
                    ),
                    request_schema=schema_name(body_schema["$ref"]) if "$ref" in body_schema else None,
                    response_schema=schema_name(json_schema["$ref"]) if "$ref" in json_schema else None,
                    content_types=tuple(content),
                    streams="text/event-stream" in content,
                )
            )
    return out
