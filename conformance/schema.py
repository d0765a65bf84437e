"""Schema checks compiled once from the generated bundle (generated/schema.json).

Two documents: the spec as published (plus overlays), and the same with the errata of
`x-respkit-errata` applied. A value the lenient document rejects is a failure; a value only the
published document rejects is explained by an erratum (`erratum`: the spec is wrong about real
traffic) or by spec drift (`drift`: the value predates a field the spec added). jsonschema-rs
validates (a Rust validator, about a hundred times faster than a pure Python one on these schemas);
its error tree is walked only when a value is invalid, to find the offending JSON Pointer.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from respkit.generator import pointer
from respkit.generator.overlay import apply_entries
from respkit.generator.spec_view import operations, stream_event_types, tag_values

BUNDLE = Path(__file__).resolve().parent.parent / "generated" / "schema.json"
_ALTERNATIVES = ("AnyOf", "OneOfNotValid")
#: explained errors kept (their messages quote values, so live traffic could make them endless)
_KEEP_ISSUES = 4096


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    pointer: str
    message: str
    basis: str  # failure | erratum | drift
    why: str = ""


@dataclass(frozen=True)
class SpecVersion:
    name: str
    sha256: str
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.version} (sha256 {self.sha256[:12]})"


@dataclass(frozen=True)
class _Erratum:
    kind: str
    why: str


class SpecValidators:
    """Validators for the bundle's schemas, compiled on first use and kept."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        entries: list[dict[str, Any]] = list(bundle.get("x-respkit-errata", []))
        self.lenient_doc = apply_entries(copy.deepcopy(bundle), entries) if entries else bundle
        self.event_types: dict[str, str] = stream_event_types(self.lenient_doc)
        self.version = _version(bundle)
        self._by_required, self._by_property, self._by_schema = _index_errata(entries)
        #: the erratum that lets optional members be null (a rule over the whole spec), if the errata have one
        self._null_rule = next(
            (
                _Erratum(str(e.get("kind", "erratum")), str(e.get("why", "")))
                for e in entries
                if e.get("op") == "nullable_optional"
            ),
            None,
        )
        self._cache: dict[tuple[str, bool], Any] = {}
        self.event_validators: dict[str, Any] = {}
        self._narrow_cache: dict[tuple[str, tuple[tuple[str, str], ...], bool], Any] = {}
        self._variant_cache: dict[tuple[str, bool], dict[str, str]] = {}
        self._union_cache: dict[tuple[str, bool], list[tuple[str, dict[str, str]]]] = {}
        #: operationId -> the schema of its 2xx JSON body (None where the spec describes none)
        self.response_schemas: dict[str, str | None] = {
            op.operation_id: op.response_schema for op in operations(bundle)
        }
        self._issue_cache: dict[tuple[str, str, str], SchemaIssue] = {}
        self._split_cache: dict[tuple[str, bool], tuple[Any, tuple[tuple[str, str], ...]] | None] = {}

    def names(self) -> set[str]:
        return set(self.bundle["components"]["schemas"])

    def _validator(self, name: str, strict: bool) -> Any:
        key = (name, strict)
        found = self._cache.get(key)
        if found is None:
            doc = self.bundle if strict else self.lenient_doc
            root = {"components": doc["components"], "$ref": f"#/components/schemas/{name}"}
            found = self._cache[key] = jsonschema_rs.Draft202012Validator(root)
        return found

    def event_validator(self, event_type: str) -> Any:
        """The published spec's validator for events of `event_type` (None: the spec defines no such type);
        `event_validators` holds those looked up so far."""
        found = self.event_validators.get(event_type, False)
        if found is False:
            name = self.event_types.get(event_type)
            found = self.event_validators[event_type] = None if name is None else self._validator(name, True)
        return found

    def accepts(self, name: str, instance: Any, strict: bool = True) -> bool:
        """Whether the published spec (`strict`), or the spec with errata, accepts `instance` as `name`.
        A member typed by a plain `$ref` (an event's `response`, `item`) is checked by the validator of its
        schema, which events of several types share (it stays warm), and the rest by a validator without it."""
        split = self._split(name, strict)
        if split is None:
            return bool(self._validator(name, strict).is_valid(instance))
        shell, members = split
        if not shell.is_valid(instance):
            return False
        if not isinstance(instance, dict):
            return True
        return all(m not in instance or self._validator(t, strict).is_valid(instance[m]) for m, t in members)

    def _split(self, name: str, strict: bool) -> tuple[Any, tuple[tuple[str, str], ...]] | None:
        """For an object schema whose keywords constrain members one by one: a validator of it with its
        members typed by a plain `$ref` left free, and those members with the schemas they refer to (kept)."""
        key = (name, strict)
        if key not in self._split_cache:
            doc = self.bundle if strict else self.lenient_doc
            schema = doc["components"]["schemas"].get(name)
            members = _ref_members(schema)
            self._split_cache[key] = None
            if members:
                free: dict[str, Any] = {m: {} for m, _ in members}
                root = {"components": doc["components"], **schema, "properties": {**schema["properties"], **free}}
                self._split_cache[key] = (jsonschema_rs.Draft202012Validator(root), members)
        return self._split_cache[key]

    def check(self, name: str, instance: Any, strict_only: bool = False, explain: bool = True) -> list[SchemaIssue]:
        """Issues of `instance` against schema `name`; empty when the published spec accepts it.
        `explain=False`: a value only errata accept gets one unexplained issue (the error walk is skipped)."""
        strict = self._validator(name, True)
        if strict.is_valid(instance):
            return []
        if strict_only:
            return [SchemaIssue(p, m, "failure") for p, m in _issues(strict, instance)]
        lenient = self._validator(name, False)
        if not lenient.is_valid(instance):
            walker = self._specialized(name, instance, False) or lenient
            return [SchemaIssue(p, m, "failure") for p, m in _issues(walker, instance)]
        if not explain:
            return [SchemaIssue("", "", "erratum")]
        return self.explain(name, instance)

    def explain(self, name: str, instance: Any) -> list[SchemaIssue]:
        """Issues of an `instance` already known to pass only with the errata: the error walk, without
        validating it again."""
        lone = self._lone_member(name, instance)
        if lone is not None:
            member, target = lone
            return [
                self._explain(name, p, m) for p, m in _issues(self._validator(target, True), instance[member], member)
            ]
        walker = self._specialized(name, instance, True) or self._validator(name, True)
        return [self._explain(name, p, m) for p, m in _issues(walker, instance)]

    def _lone_member(self, name: str, instance: Any) -> tuple[str, str] | None:
        """When every error of the published spec on `instance` is inside its one member typed by a `$ref`
        (the rest passes): that member and the schema to walk it with (a union narrowed to the variant its
        tag names, as `_specialized` does). Its validator is shared by events of several types."""
        split = self._split(name, True)
        if split is None or len(split[1]) != 1 or not isinstance(instance, dict):
            return None
        member, target = split[1][0]
        if member not in instance or not split[0].is_valid(instance):
            return None
        value = instance[member]
        variants = dict(self._unions(name, True)).get(member, {})
        tag = value.get("type") if isinstance(value, dict) else None
        return member, variants.get(tag, target) if isinstance(tag, str) else target

    def _specialized(self, name: str, instance: Any, strict: bool) -> Any:
        """A validator for `name` in which each member typed by a tagged union is narrowed to the variant
        the instance's tag names: its error walk then skips the other variants (e.g. 28 output items)."""
        if not isinstance(instance, dict):
            return None
        narrowed = {}
        for member, variants in self._unions(name, strict):
            value = instance.get(member)
            if isinstance(value, dict) and isinstance(value.get("type"), str):
                variant = variants.get(value["type"])
                if variant is not None:
                    narrowed[member] = variant
        if not narrowed:
            return None
        key = (name, tuple(sorted(narrowed.items())), strict)
        found = self._narrow_cache.get(key)
        if found is None:
            doc = self.bundle if strict else self.lenient_doc
            schema = doc["components"]["schemas"][name]
            refs = {k: {"$ref": f"#/components/schemas/{v}"} for k, v in narrowed.items()}
            root = {"components": doc["components"], **schema, "properties": {**schema["properties"], **refs}}
            found = self._narrow_cache[key] = jsonschema_rs.Draft202012Validator(root)
        return found

    def _unions(self, name: str, strict: bool) -> list[tuple[str, dict[str, str]]]:
        """The members of schema `name` typed by a tagged union, with the union's variants by tag (kept)."""
        found = self._union_cache.get((name, strict))
        if found is None:
            doc = self.bundle if strict else self.lenient_doc
            schema = doc["components"]["schemas"].get(name, {})
            props = schema.get("properties") if isinstance(schema, dict) else None
            found = []
            for key, sub in props.items() if isinstance(props, dict) else ():
                ref = sub.get("$ref") if isinstance(sub, dict) else None
                variants = self._variants(doc, ref) if isinstance(ref, str) else {}
                if variants:
                    found.append((key, variants))
            self._union_cache[(name, strict)] = found
        return found

    def _variants(self, doc: dict[str, Any], ref: str) -> dict[str, str]:
        """The variants of the union at `ref`, by their `type` tag (empty when it is not a tagged union)."""
        union = pointer.split(ref)[-1]
        found = self._variant_cache.get((union, doc is self.bundle))
        if found is None:
            schemas = doc["components"]["schemas"]
            node = schemas.get(union, {})
            found = {}
            options = node.get("oneOf", node.get("anyOf")) if isinstance(node, dict) else None
            for option in options if isinstance(options, list) else []:
                target = option.get("$ref") if isinstance(option, dict) else None
                if isinstance(target, str):
                    for tag in tag_values(schemas.get(pointer.split(target)[-1], {})):
                        found.setdefault(tag, pointer.split(target)[-1])
            self._variant_cache[(union, doc is self.bundle)] = found
        return found

    def _explain(self, name: str, where: str, message: str) -> SchemaIssue:
        """The erratum or drift behind an error of the published spec (kept: the same errors recur)."""
        key = (name, where, message)
        issue = self._issue_cache.get(key)
        if issue is None:
            if len(self._issue_cache) >= _KEEP_ISSUES:
                self._issue_cache.clear()
            issue = self._issue_cache[key] = self._find_erratum(name, where, message)
        return issue

    def _find_erratum(self, name: str, where: str, message: str) -> SchemaIssue:
        if self._null_rule is not None and message.startswith("null is not"):
            return SchemaIssue(where, message, self._null_rule.kind, self._null_rule.why)
        found = self._by_schema.get(name)
        if found is None and message.endswith(" is a required property"):
            found = self._by_required.get(message.split('"')[1] if '"' in message else "")
        if found is None:
            names = [t for t in pointer.split(where) if not t.isdigit()][: -1 if "required" in message else None]
            found = self._by_property.get(names[-1]) if names else None
        if found is None:
            return SchemaIssue(where, message, "erratum", "the published spec rejects this; spec/errata accepts it")
        return SchemaIssue(where, message, found.kind, found.why)


#: keywords that constrain an object's members one by one, and annotations (which constrain nothing)
_MEMBERWISE = frozenset({"type", "properties", "required"})
_ANNOTATIONS = frozenset({"title", "description", "example", "examples", "deprecated", "default", "$comment"})


def _annotation(keyword: str) -> bool:
    return keyword in _ANNOTATIONS or keyword.startswith("x-")


def _ref_members(schema: Any) -> tuple[tuple[str, str], ...]:
    """The members of an object schema typed by nothing but a `$ref` to a component, with that component;
    empty when the schema has a keyword that relates members to each other (then it cannot be split)."""
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return ()
    if any(k not in _MEMBERWISE and not _annotation(k) for k in schema):
        return ()
    prefix = "#/components/schemas/"
    found: list[tuple[str, str]] = []
    for member, sub in schema["properties"].items():
        ref = sub.get("$ref") if isinstance(sub, dict) else None
        target = ref[len(prefix) :] if isinstance(ref, str) and ref.startswith(prefix) else ""
        if target and "/" not in target and "~" not in target and all(k == "$ref" or _annotation(k) for k in sub):
            found.append((member, target))
    return tuple(found)


def _version(bundle: dict[str, Any]) -> SpecVersion:
    comment = str(bundle.get("$comment", ""))
    sha = comment.split("sha256 ", 1)[1].split(")", 1)[0] if "sha256 " in comment else ""
    if not sha:
        sha = hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()
    name = comment.split(" from ", 1)[1].split(" ", 1)[0] if " from " in comment else "spec"
    return SpecVersion(name=name, sha256=sha, version=str(bundle.get("info", {}).get("version", "?")))


def _index_errata(
    entries: list[dict[str, Any]],
) -> tuple[dict[str, _Erratum], dict[str, _Erratum], dict[str, _Erratum]]:
    required: dict[str, _Erratum] = {}
    prop: dict[str, _Erratum] = {}
    whole: dict[str, _Erratum] = {}
    for e in entries:
        found = _Erratum(kind=str(e.get("kind", "erratum")), why=str(e.get("why", "")))
        tokens = pointer.split(str(e["target"]))
        if e.get("op") == "unrequire":
            for n in e.get("value", []):
                required[str(n)] = found
            continue
        props = [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t == "properties"]
        if props:
            prop[props[-1]] = found
        elif len(tokens) == 3 and e.get("op") == "set":
            whole[tokens[2]] = found
        elif len(tokens) >= 3:
            prop.setdefault(tokens[2], found)
    return required, prop, whole


def _issues(validator: Any, instance: Any, member: str | None = None) -> list[tuple[str, str]]:
    """(pointer, message) of the errors of `instance`, which is the value of `member` when one is named."""
    out: list[tuple[str, str]] = []
    for error in validator.iter_errors(instance):
        out.extend(_leaves(error, [] if member is None else [member]))
    return out[:20]


def _leaves(error: Any, above: list[str]) -> list[tuple[str, str]]:
    """The most specific errors under an error: for anyOf/oneOf, the branch that fits best."""
    kind = error.kind
    branches = getattr(kind, "context", None) if type(kind).__name__ in _ALTERNATIVES else None
    where = [*above, *error.instance_path]
    if not branches:
        missing = getattr(kind, "property", None) if type(kind).__name__ == "Required" else None
        return [(pointer.join([*where, missing] if isinstance(missing, str) else where), error.message)]
    depth = len(error.instance_path)
    best = min(branches, key=lambda errs: _branch_cost(errs, depth))
    out: list[tuple[str, str]] = []
    for sub in best:
        out.extend(_leaves(sub, above))
    return out or [(pointer.join(where), error.message)]


def _branch_cost(errors: list[Any], depth: int) -> tuple[int, int]:
    """Branches whose `type` tag does not match lose; then the one with the fewest errors wins."""
    tag_miss = any(
        len(e.instance_path) == depth + 1
        and e.instance_path[-1] == "type"
        and type(e.kind).__name__ in ("Enum", "Constant")
        for e in errors
    )
    return (1 if tag_miss else 0, len(errors))


@cache
def default_validators() -> SpecValidators:
    """Validators for the repository's generated bundle."""
    return SpecValidators(json.loads(BUNDLE.read_text(encoding="utf-8")))
