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

from generator import pointer
from generator.overlay import apply_entries
from generator.spec_view import stream_event_types, tag_values

BUNDLE = Path(__file__).resolve().parent.parent / "generated" / "schema.json"
_ALTERNATIVES = ("AnyOf", "OneOfNotValid")


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
        self._cache: dict[tuple[str, bool], Any] = {}
        self._by_event_type: dict[str, Any] = {}
        self._narrow_cache: dict[tuple[str, tuple[tuple[str, str], ...], bool], Any] = {}
        self._variant_cache: dict[tuple[str, bool], dict[str, str]] = {}
        self._union_cache: dict[tuple[str, bool], list[tuple[str, dict[str, str]]]] = {}

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
        """The published spec's validator for events of `event_type` (None: the spec defines no such type)."""
        found = self._by_event_type.get(event_type, False)
        if found is False:
            name = self.event_types.get(event_type)
            found = self._by_event_type[event_type] = None if name is None else self._validator(name, True)
        return found

    def accepts(self, name: str, instance: Any, strict: bool = True) -> bool:
        """Whether the published spec (`strict`), or the spec with errata, accepts `instance` as `name`."""
        return bool(self._validator(name, strict).is_valid(instance))

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
        walker = self._specialized(name, instance, True) or self._validator(name, True)
        return [self._explain(name, p, m) for p, m in _issues(walker, instance)]

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
        found = self._by_schema.get(name)
        if found is None and message.endswith(" is a required property"):
            found = self._by_required.get(message.split('"')[1] if '"' in message else "")
        if found is None:
            names = [t for t in pointer.split(where) if not t.isdigit()][: -1 if "required" in message else None]
            found = self._by_property.get(names[-1]) if names else None
        if found is None:
            return SchemaIssue(where, message, "erratum", "the published spec rejects this; spec/errata accepts it")
        return SchemaIssue(where, message, found.kind, found.why)


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


def _issues(validator: Any, instance: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for error in validator.iter_errors(instance):
        out.extend(_leaves(error))
    return out[:20]


def _leaves(error: Any) -> list[tuple[str, str]]:
    """The most specific errors under an error: for anyOf/oneOf, the branch that fits best."""
    kind = error.kind
    branches = getattr(kind, "context", None) if type(kind).__name__ in _ALTERNATIVES else None
    if not branches:
        where = list(error.instance_path)
        missing = getattr(kind, "property", None) if type(kind).__name__ == "Required" else None
        return [(pointer.join([*where, missing] if isinstance(missing, str) else where), error.message)]
    depth = len(error.instance_path)
    best = min(branches, key=lambda errs: _branch_cost(errs, depth))
    out: list[tuple[str, str]] = []
    for sub in best:
        out.extend(_leaves(sub))
    return out or [(pointer.join(list(error.instance_path)), error.message)]


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
