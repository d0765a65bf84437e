"""The closure of a set of paths: the operations taken and every component they reach."""

from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass
from typing import Any

from respkit.generator import pointer
from respkit.generator.errors import SpecError

REF_KEYS = ("$ref", "$recursiveRef", "$dynamicRef")

#: components taken whether or not the paths reach them: the error envelope, which the checks and the
#: reference server need, and which an older spec's /responses documents no answer with
ALWAYS = ("#/components/schemas/ErrorResponse",)


@dataclass(frozen=True)
class Closure:
    """Selected paths and the components they reach, as a self-contained OpenAPI document."""

    document: dict[str, Any]

    @property
    def schemas(self) -> dict[str, Any]:
        return self.document.get("components", {}).get("schemas", {})  # type: ignore[no-any-return]


def select_paths(document: dict[str, Any], patterns: tuple[str, ...], where: str) -> dict[str, Any]:
    """Paths matching the patterns; keys with a query string are not path templates and stay out."""
    paths: dict[str, Any] = document["paths"]
    templates = [p for p in paths if "?" not in p]
    selected: dict[str, Any] = {}
    for pattern in patterns:
        matched = [p for p in templates if fnmatch.fnmatchcase(p, pattern)]
        if not matched:
            raise SpecError(where, "/paths", f"no path matches {pattern!r} (path not in the spec)")
        for p in matched:
            selected[p] = paths[p]
    return {p: selected[p] for p in sorted(selected)}


def _refs(node: Any, at: list[str | int], out: list[tuple[str, str]]) -> None:
    """Collect (ref, pointer of the ref) pairs, depth first, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in REF_KEYS and isinstance(value, str):
                out.append((value, pointer.join([*at, key])))
            else:
                _refs(value, [*at, key], out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refs(value, [*at, i], out)


def closure(document: dict[str, Any], patterns: tuple[str, ...], where: str) -> Closure:
    """Take the paths and, transitively, every `#/components/...` they reference."""
    paths = select_paths(document, patterns, where)
    found: list[tuple[str, str]] = []
    _refs(paths, ["paths"], found)
    found += [(ref, ref) for ref in ALWAYS if _defined(document, ref)]
    components: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    while found:
        ref, at = found.pop(0)
        if ref == "#" or ref in seen:
            continue  # "#" is a recursive self-reference, fixed by an overlay
        if not ref.startswith("#/components/"):
            raise SpecError(where, at, f"$ref {ref!r} points outside this document; only local refs are supported")
        seen.add(ref)
        tokens = pointer.split(ref)
        try:
            target = pointer.resolve(document, ref)
        except KeyError:
            raise SpecError(where, at, f"dangling $ref {ref!r}") from None
        if len(tokens) != 3:
            raise SpecError(where, at, f"$ref {ref!r} must name a component (#/components/KIND/NAME)")
        components.setdefault(tokens[1], {})[tokens[2]] = target
        _refs(target, list(tokens), found)
    bundle = {
        "openapi": document.get("openapi"),
        "info": copy.deepcopy(document.get("info", {})),
        "paths": copy.deepcopy(paths),
        "components": {
            kind: {n: copy.deepcopy(items[n]) for n in sorted(items)} for kind, items in sorted(components.items())
        },
    }
    return Closure(document=bundle)


def _defined(document: dict[str, Any], ref: str) -> bool:
    try:
        pointer.resolve(document, ref)
    except KeyError:
        return False
    return True


def dangling_refs(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(ref, where) for every local `$ref` and discriminator mapping target that does not resolve."""
    found: list[tuple[str, str]] = []
    _refs(document, [], found)
    _mapping_targets(document, [], found)
    out = []
    for ref, at in found:
        if ref == "#" or not ref.startswith("#/"):
            continue
        try:
            pointer.resolve(document, ref)
        except KeyError:
            out.append((ref, at))
    return out


def _mapping_targets(node: Any, at: list[str | int], out: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        mapping = node.get("discriminator", {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
        if isinstance(mapping, dict):
            for tag, ref in mapping.items():
                if isinstance(ref, str):
                    out.append((ref, pointer.join([*at, "discriminator", "mapping", tag])))
        for key, value in node.items():
            _mapping_targets(value, [*at, key], out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _mapping_targets(value, [*at, i], out)
