"""The shape of a schema node as the spec differ compares it.

A shape says which kinds of value a node allows (its type labels: ``string``, ``object``,
``ref:Name``, ...), whether it allows null, which enum values it lists, and which properties it has,
with ``allOf`` members merged and each property's owner recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from respkit.generator import pointer
from respkit.generator.closure import REF_KEYS
from respkit.generator.spec_view import tag_values

NULL_TYPE = "null"


@dataclass(frozen=True)
class Prop:
    """A property of an object schema: its node, where it is defined, and which component owns it."""

    node: dict[str, Any]
    at: str
    owner: str | None = None


@dataclass(frozen=True)
class Shape:
    labels: frozenset[str]
    nullable: bool
    enum: frozenset[str] | None  # None: any value of the labels' types
    open_enum: bool  # a sibling variant accepts any string, so the enum only documents known values
    properties: dict[str, Prop] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    variants: dict[str, Prop] = field(default_factory=dict)  # inline union members, by a stable key


def ref_name(ref: str) -> str:
    return pointer.split(ref)[-1]


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _enum(node: dict[str, Any]) -> tuple[frozenset[str] | None, bool]:
    """A node's own enum values (``const`` counts as a one-value enum), and whether null is among them."""
    if "const" in node:
        return frozenset([_value(node["const"])]), node["const"] is None
    if isinstance(node.get("enum"), list):
        values = node["enum"]
        return frozenset(_value(v) for v in values if v is not None), None in values
    return None, False


def _types(node: dict[str, Any]) -> tuple[set[str], bool]:
    raw = node.get("type")
    listed = raw if isinstance(raw, list) else [raw]
    types = {t for t in listed if isinstance(t, str)}
    nullable = NULL_TYPE in types or node.get("nullable") is True
    types.discard(NULL_TYPE)
    if not types and ("properties" in node or "additionalProperties" in node):
        types.add("object")
    return types, nullable


def _is_null(node: Any) -> bool:
    return isinstance(node, dict) and (node.get("type") == NULL_TYPE or node.get("enum") == [None])


def unwrap(node: dict[str, Any], at: str) -> tuple[dict[str, Any], str, bool]:
    """``anyOf: [X, null]`` (or a one-member ``allOf``) -> ``(X, its pointer, nullable)``."""
    nullable = False
    while True:
        key = "anyOf" if "anyOf" in node else "oneOf" if "oneOf" in node else None
        if key and isinstance(node[key], list) and "properties" not in node:
            members = [(i, m) for i, m in enumerate(node[key]) if not _is_null(m)]
            if len(members) == 1:
                nullable = nullable or len(node[key]) > 1
                i, node = members[0]
                at = f"{at}/{key}/{i}"
                continue
        if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1 and "properties" not in node:
            at, node = f"{at}/allOf/0", node["allOf"][0]
            continue
        return node, at, nullable


def variant_key(document: dict[str, Any], node: dict[str, Any]) -> str:
    """A name for an inline union member that stays stable across spec versions."""
    tags = tag_values(node)
    if tags:
        return "type=" + "|".join(sorted(tags))
    title = node.get("title")
    if isinstance(title, str):
        return "title=" + title
    return "|".join(sorted(shape(document, node, "", resolve=False).labels)) or "any"


def _open_string(document: dict[str, Any], member: dict[str, Any]) -> bool:
    """Whether a ``$ref`` union member accepts any string (a plain string, or an open enum)."""
    try:
        target = pointer.resolve(document, member["$ref"])
    except (KeyError, ValueError):
        return False
    sub = shape(document, target, member["$ref"].lstrip("#"), resolve=False)
    return "string" in sub.labels and (sub.enum is None or sub.open_enum)


def _union(document: dict[str, Any], node: dict[str, Any], at: str, key: str, resolve: bool) -> Shape:
    labels: set[str] = set()
    enum: set[str] = set()
    nullable, open_enum, any_enum = False, False, False
    variants: dict[str, Prop] = {}
    for i, member in enumerate(node[key]):
        if not isinstance(member, dict):
            continue
        if _is_null(member):
            nullable = True
            continue
        sub = shape(document, member, f"{at}/{key}/{i}", resolve=False)
        labels |= sub.labels
        nullable = nullable or sub.nullable
        if sub.enum is not None:
            enum |= sub.enum
            any_enum = True
        elif "string" in sub.labels or (resolve and "$ref" in member and _open_string(document, member)):
            open_enum = True
        open_enum = open_enum or sub.open_enum
        if "$ref" not in member:
            variants.setdefault(variant_key(document, member), Prop(member, f"{at}/{key}/{i}"))
    return Shape(
        frozenset(labels), nullable, frozenset(enum) if any_enum else None, open_enum and any_enum, variants=variants
    )


def _merged(
    document: dict[str, Any], node: dict[str, Any], at: str, owner: str | None, seen: frozenset[str]
) -> tuple[dict[str, Prop], set[str]]:
    """Properties and required names of an object schema, ``allOf`` members (and their refs) merged."""
    props: dict[str, Prop] = {}
    required: set[str] = set()
    for i, member in enumerate(node.get("allOf") or []):
        if not isinstance(member, dict):
            continue
        if "$ref" in member and member["$ref"] not in seen:
            name = ref_name(member["$ref"])
            target = pointer.resolve(document, member["$ref"])
            sub_props, sub_required = _merged(
                document, target, member["$ref"].lstrip("#"), name, seen | {member["$ref"]}
            )
        else:
            sub_props, sub_required = _merged(document, member, f"{at}/allOf/{i}", owner, seen)
        props.update(sub_props)
        required |= sub_required
    for name, prop in (node.get("properties") or {}).items():
        if isinstance(prop, dict):
            props[name] = Prop(prop, f"{at}/properties/{pointer.escape(name)}", owner)
    required |= {r for r in node.get("required") or [] if isinstance(r, str)}
    return props, required


def shape(document: dict[str, Any], node: dict[str, Any], at: str, *, resolve: bool = True) -> Shape:
    """The shape of ``node``, found at pointer ``at`` in ``document``. With ``resolve``, a union's ``$ref``
    members are looked up to tell whether its enum is open (a member accepts any string)."""
    node, at, wrapped_null = unwrap(node, at)
    if "$ref" in node:
        return Shape(frozenset(["ref:" + ref_name(node["$ref"])]), wrapped_null, None, False)
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list) and "properties" not in node:
            union = _union(document, node, at, key, resolve)
            return Shape(
                union.labels, union.nullable or wrapped_null, union.enum, union.open_enum, variants=union.variants
            )
    types, nullable = _types(node)
    enum, null_in_enum = _enum(node)
    props: dict[str, Prop] = {}
    required: set[str] = set()
    if "allOf" in node or "properties" in node:
        props, required = _merged(document, node, at, None, frozenset())
        types = types or {"object"}
    return Shape(
        labels=frozenset(types or {"any"}),
        nullable=nullable or null_in_enum or wrapped_null,
        enum=enum,
        open_enum=False,
        properties=props,
        required=frozenset(required),
    )


# --- composition: which schemas users meet only as allOf parts ------------------------------------

SCHEMAS = "#/components/schemas/"
_NOT_SCHEMA = ("example", "examples", "x-oaiMeta")


def _composes(node: dict[str, Any]) -> bool:
    """Whether ``node`` merges its ``allOf`` members (not a one-member wrapper that ``unwrap`` sees through)."""
    members = node.get("allOf")
    return isinstance(members, list) and (len(members) > 1 or "properties" in node)


@dataclass
class _Uses:
    parts: dict[str, set[str]] = field(default_factory=dict)  # ref -> schemas that compose it
    direct: set[str] = field(default_factory=set)  # refs met other than as an allOf part


def _walk(node: Any, holder: str, uses: _Uses, *, names: bool = False) -> None:
    """Record the references under ``node`` (inside component ``holder``); ``names`` for a mapping of
    property names, whose keys are never keywords."""
    if isinstance(node, list):
        for value in node:
            _walk(value, holder, uses)
        return
    if not isinstance(node, dict):
        return
    composed = _composes(node)
    for key, value in node.items():
        if key in REF_KEYS and isinstance(value, str):
            uses.direct.add(value)
        elif composed and key == "allOf":
            for member in value:
                if isinstance(member, dict) and isinstance(member.get("$ref"), str):
                    uses.parts.setdefault(member["$ref"], set()).add(holder)
                    _walk({k: v for k, v in member.items() if k != "$ref"}, holder, uses)
                else:
                    _walk(member, holder, uses)
        elif names or key not in _NOT_SCHEMA:
            _walk(value, holder, uses, names=key == "properties" and not names)


def allof_parts(document: dict[str, Any]) -> dict[str, frozenset[str]]:
    """The component schemas met only as ``allOf`` parts ("mixins"), each with the schemas users meet
    that take it in, through other such parts too (``""`` for a composition outside the components)."""
    uses = _Uses()
    for key, value in document.items():
        if key == "components" and isinstance(value, dict):
            for kind, items in value.items():
                for name, node in items.items() if isinstance(items, dict) else ():
                    _walk(node, name if kind == "schemas" else "", uses)
        else:
            _walk(value, "", uses)
    holders = {
        ref_name(ref): held
        for ref, held in uses.parts.items()
        if ref.startswith(SCHEMAS) and len(pointer.split(ref)) == 3 and ref not in uses.direct
    }

    def composers(name: str, seen: frozenset[str]) -> set[str]:
        out: set[str] = set()
        for holder in holders[name]:
            if holder not in holders:
                out.add(holder)
            elif holder not in seen:
                out |= composers(holder, seen | {holder})
        return out

    return {name: frozenset(composers(name, frozenset([name]))) for name in holders}
