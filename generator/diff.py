"""What changed between two closures of `/responses`, each change classified by whom it breaks.

Compared: operations, their parameters and bodies, stream event types, and every schema of the
closure down to its properties (added, removed, required <-> optional), type labels, nullability and
enum values. Properties that a schema takes through ``allOf`` are listed under it too, so `Response`
names every field a response carries; changes inside such a property are told once, under its owner.

A schema met only as an ``allOf`` part (a mixin such as `ResponseProperties`) is no type of its own:
its changes are judged on the composed schemas that take it in (`Response`, `CreateResponse`). A
property that moves from one part to another is no change there; a change of the part that shows in
none of them is kept as a compatible note ("part-" before its kind).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from respkit.generator import classify, pointer
from respkit.generator.classify import ADDITIVE, IMPACTS, REQUEST, RESPONSE, readers, removed, writers
from respkit.generator.shape import Prop, Shape, allof_parts, shape, unwrap
from respkit.generator.spec_view import HTTP_METHODS, STREAM_UNION, Parameter, operations, stream_event_types

MAX_DEPTH = 16


@dataclass(frozen=True)
class Change:
    kind: str  # e.g. "property-added", "enum-value-removed"
    subject: str  # e.g. "Response.conversation", "POST /responses", "stream event response.queued"
    pointer: str  # where, in the new closure (in the old one for removals)
    detail: str
    breaks: frozenset[str]

    @property
    def impact(self) -> str:
        return classify.KEYS[self.breaks]


@dataclass(frozen=True)
class Version:
    source: str
    sha256: str
    operations: int
    schemas: int
    event_types: int


@dataclass(frozen=True)
class SpecDiff:
    old: Version
    new: Version
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()

    def grouped(self) -> list[tuple[frozenset[str], list[Change]]]:
        """Changes by impact, breaking first; empty groups left out."""
        groups = [(impact, [c for c in self.changes if c.breaks == impact]) for impact in IMPACTS]
        return [(impact, items) for impact, items in groups if items]

    @property
    def breaking(self) -> int:
        return sum(1 for c in self.changes if c.breaks)


def _labels(s: Shape) -> str:
    text = " | ".join(sorted(label.removeprefix("ref:") for label in s.labels))
    return f"{text} | null" if s.nullable else text


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.dirs_old, self.dirs_new = classify.directions(old), classify.directions(new)
        self.out: list[Change] = []
        self.parts = _mixins(old, new)
        self.in_parts: list[tuple[str, Change]] = []  # changes of mixins, by mixin, until judged

    def add(self, kind: str, subject: str, at: str, detail: str, breaks: frozenset[str]) -> None:
        self.out.append(Change(kind, subject, at, detail, breaks))

    # --- schema nodes -----------------------------------------------------------------------------

    def node(
        self, old: Prop, new: Prop, subject: str, dirs: frozenset[str], depth: int = 0, *, enums: bool = True
    ) -> None:
        """Compare two schema nodes; ``enums=False`` for a union's inline member, whose enum values the
        union already reported."""
        if depth > MAX_DEPTH:
            return
        so, sn = shape(self.old, old.node, old.at), shape(self.new, new.node, new.at)
        if subject != STREAM_UNION:
            self.labels(so, sn, subject, new.at, dirs, depth)
        self.nullable(so, sn, subject, new.at, dirs)
        if enums:
            self.enum(so, sn, subject, new.at, dirs)
        self.properties(so, sn, subject, dirs, depth)
        inner_old, at_old, _ = unwrap(old.node, old.at)
        inner_new, at_new, _ = unwrap(new.node, new.at)
        for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
            if isinstance(inner_old.get(key), dict) and isinstance(inner_new.get(key), dict):
                self.node(
                    Prop(inner_old[key], f"{at_old}/{key}"),
                    Prop(inner_new[key], f"{at_new}/{key}"),
                    subject + suffix,
                    dirs,
                    depth + 1,
                )
        for key in sorted(so.variants.keys() & sn.variants.keys()):
            self.node(so.variants[key], sn.variants[key], f"{subject}<{key}>", dirs, depth + 1, enums=False)

    def labels(self, so: Shape, sn: Shape, subject: str, at: str, dirs: frozenset[str], depth: int) -> None:
        added, gone = sn.labels - so.labels, so.labels - sn.labels
        if not added and not gone:
            return
        if len(added) == len(gone) == 1 and all(label.startswith("ref:") for label in added | gone):
            self.renamed(next(iter(gone))[4:], next(iter(added))[4:], subject, at, dirs, depth)
            return
        if len(so.labels) > 1 and len(sn.labels) > 1 and "any" not in so.labels | sn.labels:
            for label in sorted(added):
                self.add(
                    "variant-added", subject, at, f"union variant added: {label.removeprefix('ref:')}", readers(dirs)
                )
            for label in sorted(gone):
                self.add(
                    "variant-removed",
                    subject,
                    at,
                    f"union variant removed: {label.removeprefix('ref:')}",
                    writers(dirs),
                )
            return
        wider = bool(added) or "any" in sn.labels
        narrower = (bool(gone) and "any" not in sn.labels) or "any" in so.labels
        breaks = (readers(dirs) if wider else ADDITIVE) | (writers(dirs) if narrower else ADDITIVE)
        self.add("type-changed", subject, at, f"type changed: {_labels(so)} -> {_labels(sn)}", breaks)

    def renamed(self, old: str, new: str, subject: str, at: str, dirs: frozenset[str], depth: int) -> None:
        """A reference that now names another schema: compatible on the wire when the two have the same
        shape (the old name's removal is its own change), else the differences, told under ``subject``."""
        before = len(self.out)
        old_at, new_at = (f"/components/schemas/{pointer.escape(n)}" for n in (old, new))
        try:
            targets = pointer.resolve(self.old, old_at), pointer.resolve(self.new, new_at)
        except KeyError:
            targets = None
        if targets is not None:
            self.node(Prop(targets[0], old_at), Prop(targets[1], new_at), subject, dirs, depth + 1)
        same = targets is not None and len(self.out) == before
        detail = f"now refers to {new} instead of {old}" + (" (same shape)" if same else "")
        breaks = ADDITIVE if targets is not None else readers(dirs) | writers(dirs)
        self.add("type-renamed" if same else "type-changed", subject, at, detail, breaks)

    def nullable(self, so: Shape, sn: Shape, subject: str, at: str, dirs: frozenset[str]) -> None:
        if so.nullable and not sn.nullable:
            self.add("nullability-changed", subject, at, "no longer nullable", writers(dirs))
        elif sn.nullable and not so.nullable:
            self.add("nullability-changed", subject, at, "now nullable", readers(dirs))

    def enum(self, so: Shape, sn: Shape, subject: str, at: str, dirs: frozenset[str]) -> None:
        if so.enum == sn.enum:
            return
        if so.enum is None or sn.enum is None:
            if so.labels == sn.labels:
                restricted = sn.enum is not None
                detail = "now restricted to enum values" if restricted else "no longer restricted to enum values"
                self.add("enum-changed", subject, at, detail, writers(dirs) if restricted else readers(dirs))
            return
        added, gone = sorted(sn.enum - so.enum), sorted(so.enum - sn.enum)
        if so.open_enum or sn.open_enum:
            values = ", ".join([*(f"+{v}" for v in added), *(f"-{v}" for v in gone)])
            self.add("enum-values-changed", subject, at, f"known values of an open enum changed: {values}", ADDITIVE)
            return
        for value in added:
            self.add("enum-value-added", subject, at, f"enum value added: {value}", readers(dirs))
        for value in gone:
            self.add("enum-value-removed", subject, at, f"enum value removed: {value}", writers(dirs))

    def properties(self, so: Shape, sn: Shape, subject: str, dirs: frozenset[str], depth: int) -> None:
        for name in sorted(so.properties.keys() | sn.properties.keys()):
            po, pn = so.properties.get(name), sn.properties.get(name)
            sub = f"{subject}.{name}"
            if po is None and pn is not None:
                required = name in sn.required
                breaks = writers(dirs) if required else ADDITIVE
                kind = "required" if required else "optional"
                self.add("property-added", sub, pn.at, f"property added ({kind}){_via(pn)}", breaks)
            elif pn is None and po is not None:
                self.add("property-removed", sub, po.at, f"property removed{_via(po)}", removed())
            elif po is not None and pn is not None:
                self.required(name in so.required, name in sn.required, sub, pn, dirs)
                told_by_owner = po.owner is not None and po.owner == pn.owner and po.owner not in self.parts
                if not told_by_owner:
                    self.node(po, pn, sub, dirs, depth + 1)

    def required(self, was: bool, now: bool, subject: str, prop: Prop, dirs: frozenset[str]) -> None:
        if now and not was:
            self.add("property-required", subject, prop.at, f"optional -> required{_via(prop)}", writers(dirs))
        elif was and not now:
            self.add("property-optional", subject, prop.at, f"required -> optional{_via(prop)}", readers(dirs))

    # --- components, operations, events -----------------------------------------------------------

    def schemas(self) -> None:
        old = self.old.get("components", {}).get("schemas", {})
        new = self.new.get("components", {}).get("schemas", {})
        for name in sorted(old.keys() | new.keys()):
            ref = f"#/components/schemas/{name}"
            at = f"/components/schemas/{pointer.escape(name)}"
            dirs = self.dirs_old.get(ref, frozenset()) | self.dirs_new.get(ref, frozenset())
            before = len(self.out)
            if name not in old:
                self.add("schema-added", name, at, "schema added", ADDITIVE)
            elif name not in new:
                self.add("schema-removed", name, at, "schema removed", removed())
            else:
                self.node(Prop(old[name], at), Prop(new[name], at), name, dirs)
            if name in self.parts:
                self.in_parts += [(name, change) for change in self.out[before:]]
                del self.out[before:]

    def mixins(self) -> None:
        """Each change of a mixin: dropped when its composed schemas show it, else kept as a note."""
        for name, change in self.in_parts:
            composers = sorted(self.parts[name])
            rest = change.subject.removeprefix(name)
            if any(_shows(c, change, rest, composers) for c in self.out):
                continue
            names = ", ".join(c or "an operation body" for c in composers)
            where = f"no such change in {names}" if names else "of no schema users meet"
            detail = f"{change.detail}; only an allOf part, {where}"
            self.add(f"part-{change.kind}", change.subject, change.pointer, detail, ADDITIVE)

    def events(self) -> None:
        old, new = stream_event_types(self.old), stream_event_types(self.new)
        stream = frozenset([RESPONSE])
        for tag in [t for t in new if t not in old]:
            detail = f"stream event type added ({new[tag]}); strict clients reject unknown types"
            self.add(
                "event-type-added", f"stream event {tag}", f"/components/schemas/{new[tag]}", detail, readers(stream)
            )
        for tag in [t for t in old if t not in new]:
            detail = f"stream event type removed ({old[tag]})"
            self.add(
                "event-type-removed", f"stream event {tag}", f"/components/schemas/{old[tag]}", detail, writers(stream)
            )

    def operations(self) -> None:
        old = {f"{op.method} {op.path}": op for op in operations(self.old)}
        new = {f"{op.method} {op.path}": op for op in operations(self.new)}
        for key in sorted(old.keys() | new.keys()):
            method, path = key.split(" ", 1)
            at = f"/paths/{pointer.escape(path)}/{method.lower()}"
            if key not in old:
                self.add("operation-added", key, at, f"operation added ({new[key].operation_id})", ADDITIVE)
            elif key not in new:
                self.add("operation-removed", key, at, f"operation removed ({old[key].operation_id})", removed())
            else:
                self.parameters(old[key].parameters, new[key].parameters, key, at)
                self.bodies(path, method.lower(), key, at)

    def parameters(self, old: tuple[Parameter, ...], new: tuple[Parameter, ...], op: str, at: str) -> None:
        po = {(p.location, p.name): p for p in old}
        pn = {(p.location, p.name): p for p in new}
        request = frozenset([REQUEST])
        for key in sorted(po.keys() | pn.keys()):
            subject, where = f"{op} {key[0]} parameter {key[1]}", f"{at}/parameters"
            if key not in po:
                required = pn[key].required
                detail = f"parameter added ({'required' if required else 'optional'})"
                self.add("parameter-added", subject, where, detail, writers(request) if required else ADDITIVE)
            elif key not in pn:
                self.add("parameter-removed", subject, where, "parameter removed", removed())
            else:
                if po[key].required != pn[key].required:
                    now = pn[key].required
                    self.add(
                        "parameter-required" if now else "parameter-optional",
                        subject,
                        where,
                        "optional -> required" if now else "required -> optional",
                        writers(request) if now else readers(request),
                    )
                self.node(Prop(po[key].schema, where), Prop(pn[key].schema, where), subject, request)

    def bodies(self, path: str, method: str, op: str, at: str) -> None:
        old, new = _bodies(self.old, path, method, at), _bodies(self.new, path, method, at)
        for key in sorted(old.keys() | new.keys()):
            direction = frozenset([REQUEST if key.startswith("request") else RESPONSE])
            subject = f"{op} {key}"
            if key not in old:
                self.add("body-added", subject, new[key].at, "body added", ADDITIVE)
            elif key not in new:
                self.add("body-removed", subject, old[key].at, "body removed", removed())
            else:
                self.node(old[key], new[key], subject, direction)


def _via(prop: Prop) -> str:
    return f" (from {prop.owner})" if prop.owner else ""


def _core(detail: str) -> str:
    """A change's detail without the owner it names."""
    return re.sub(r" \(from [^()]*\)$", "", detail)


def _shows(change: Change, of_part: Change, rest: str, composers: list[str]) -> bool:
    """Whether ``change`` of a composed schema is ``of_part`` (a mixin's change, ``rest`` its subject
    after the mixin's name) as it shows in one of the ``composers``."""
    if change.kind != of_part.kind or _core(change.detail) != _core(of_part.detail):
        return False
    root = re.split(r"[.<\[{]", change.subject, maxsplit=1)[0]
    return (root in composers or "" in composers) and change.subject.endswith(rest)


def _mixins(old: dict[str, Any], new: dict[str, Any]) -> dict[str, frozenset[str]]:
    """The schemas met only as ``allOf`` parts in each spec that has them, with their composers."""
    parts_old, parts_new = allof_parts(old), allof_parts(new)
    schemas_old = old.get("components", {}).get("schemas", {})
    schemas_new = new.get("components", {}).get("schemas", {})
    names = (parts_old.keys() | parts_new.keys()) - (schemas_old.keys() - parts_old.keys())
    names -= schemas_new.keys() - parts_new.keys()
    return {n: parts_old.get(n, frozenset()) | parts_new.get(n, frozenset()) for n in names}


def _deref(document: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 8:
        try:
            node = pointer.resolve(document, node["$ref"])
        except (KeyError, ValueError):
            return {}
        seen += 1
    return node


def _bodies(document: dict[str, Any], path: str, method: str, at: str) -> dict[str, Prop]:
    """An operation's request and response bodies, keyed like ``request application/json``."""
    op = document["paths"][path][method]
    out: dict[str, Prop] = {}
    body = _deref(document, op.get("requestBody"))
    for ctype, media in ((body or {}).get("content") or {}).items():
        if isinstance(media, dict) and isinstance(media.get("schema"), dict):
            out[f"request {ctype}"] = Prop(media["schema"], f"{at}/requestBody/content/{pointer.escape(ctype)}/schema")
    for status, response in (op.get("responses") or {}).items():
        resolved = _deref(document, response)
        for ctype, media in ((resolved or {}).get("content") or {}).items():
            if isinstance(media, dict) and isinstance(media.get("schema"), dict):
                where = f"{at}/responses/{status}/content/{pointer.escape(ctype)}/schema"
                out[f"response {status} {ctype}"] = Prop(media["schema"], where)
    return out


def _order(change: Change) -> tuple[int, str, str]:
    return IMPACTS.index(change.breaks), change.subject, change.kind


def _count(document: dict[str, Any]) -> tuple[int, int, int]:
    ops = sum(1 for item in document["paths"].values() for m in HTTP_METHODS if isinstance(item.get(m), dict))
    return ops, len(document.get("components", {}).get("schemas", {})), len(stream_event_types(document))


def version(source: str, sha256: str, document: dict[str, Any]) -> Version:
    return Version(source, sha256, *_count(document))


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from closure ``old`` to closure ``new``, breaking first."""
    differ = _Differ(old, new)
    differ.operations()
    differ.events()
    differ.schemas()
    differ.mixins()
    return sorted(differ.out, key=_order)
