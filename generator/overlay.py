"""Overlays: small YAML patches to the spec, each addressed by JSON Pointer.

A file holds ``actions``, applied in order, each with a ``target`` pointer and one operation:

- ``set: VALUE`` creates or replaces the value;
- ``merge: MAPPING`` shallow-merges into a mapping;
- ``remove: true`` deletes the value;
- ``extend: [VALUES]`` appends to a list, skipping values it already holds;
- ``unrequire: [NAMES]`` drops names from the ``required`` list of the schema at the target;
- ``rename: KEY`` moves the value at the target to the sibling ``KEY`` (e.g. a ``oneOf`` to ``anyOf``);
- ``nullable_optional: true`` lets every member that an object schema at or below the target does not
  require be ``null`` as well (a rule, where one serializer behaviour explains many recordings).

In a target, a ``*`` token stands for every key of a mapping (at least one must match). Errata files
use the same format and add ``kind`` (``erratum`` or ``drift``), ``why`` and ``evidence`` to each action.

An action whose target the spec lacks is an error for an overlay (the defect it fixes may now be
elsewhere). An erratum or reader action in that state is *moot* for that spec version: the spec no longer
says (or does not yet say) what the erratum corrects. It is skipped and reported, never silently.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from respkit.generator import pointer
from respkit.generator.config import display_path
from respkit.generator.errors import Inapplicable, SpecError

OPS = ("set", "merge", "remove", "unrequire", "extend", "rename", "nullable_optional")


@dataclass(frozen=True)
class Action:
    target: str
    op: str
    value: Any
    kind: str
    why: str
    evidence: tuple[str, ...]
    index: int


@dataclass(frozen=True)
class Moot:
    """An action skipped because this spec version lacks its target."""

    file: str
    index: int
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}#/actions/{self.index}: {self.reason}"


@dataclass(frozen=True)
class Overlay:
    path: Path
    sha256: str
    actions: tuple[Action, ...]

    @property
    def name(self) -> str:
        return self.path.name


def load_overlay(path: Path) -> Overlay:
    where = display_path(path)
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark else ""
        raise SpecError(where, "", f"not valid YAML{at}") from None
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise SpecError(where, "/actions", "expected a list of actions")
    actions = []
    for i, item in enumerate(data["actions"]):
        at = f"/actions/{i}"
        if not isinstance(item, dict) or not isinstance(item.get("target"), str):
            raise SpecError(where, f"{at}/target", "expected a JSON Pointer")
        ops = [op for op in OPS if op in item]
        if len(ops) != 1:
            raise SpecError(where, at, f"expected exactly one of {', '.join(OPS)}")
        op = ops[0]
        if op == "unrequire" and not (isinstance(item[op], list) and all(isinstance(n, str) for n in item[op])):
            raise SpecError(where, f"{at}/unrequire", "expected a list of property names")
        if op == "extend" and not isinstance(item[op], list):
            raise SpecError(where, f"{at}/extend", "expected a list")
        if op == "merge" and not isinstance(item["merge"], dict):
            raise SpecError(where, f"{at}/merge", "expected a mapping")
        if op == "rename" and not (isinstance(item["rename"], str) and item["rename"]):
            raise SpecError(where, f"{at}/rename", "expected the new key")
        if op == "nullable_optional" and item[op] is not True:
            raise SpecError(where, f"{at}/nullable_optional", "expected true")
        actions.append(
            Action(
                target=item["target"],
                op=op,
                value=item[op],
                kind=str(item.get("kind", "overlay")),
                why=str(item.get("why", "")),
                evidence=tuple(str(e) for e in item.get("evidence", []) or []),
                index=i,
            )
        )
    return Overlay(path=path, sha256=hashlib.sha256(raw).hexdigest(), actions=tuple(actions))


def _expand(document: Any, tokens: list[str]) -> list[list[str]]:
    """Concrete token lists for a target that may hold ``*`` tokens."""
    results: list[list[str]] = [[]]
    for token in tokens:
        nxt: list[list[str]] = []
        for prefix in results:
            if token != "*":
                nxt.append([*prefix, token])
                continue
            try:
                node = pointer.resolve(document, pointer.join(prefix))
            except KeyError:
                continue
            if isinstance(node, dict):
                nxt.extend([*prefix, key] for key in node)
        results = nxt
    return results


def apply(document: dict[str, Any], overlay: Overlay) -> dict[str, Any]:
    """Apply an overlay to a copy of the document; a target that does not resolve is an error."""
    return apply_some(document, overlay, skip_moot=False)[0]


def apply_some(
    document: dict[str, Any], overlay: Overlay, *, skip_moot: bool, in_place: bool = False
) -> tuple[dict[str, Any], list[Moot]]:
    """Apply an overlay to a copy of the document (``in_place``: to the document itself, for a caller that
    owns it and drops it on an error). With ``skip_moot``, actions whose target this spec lacks are skipped
    and returned; a malformed action is an error either way."""
    result = document if in_place else copy.deepcopy(document)
    where = display_path(overlay.path)
    moot: list[Moot] = []
    for action in overlay.actions:
        at = f"/actions/{action.index}/target"
        try:
            tokens = pointer.split(action.target)
        except ValueError:
            raise SpecError(where, at, "not a JSON Pointer") from None
        if not tokens:
            raise SpecError(where, at, "cannot patch the whole document")
        try:
            if "*" in tokens:
                targets = [t for t in _expand(result, tokens) if _applies(result, t, action)]
                if not targets:
                    raise Inapplicable(where, at, f"{action.target} matches nothing")
            else:
                targets = [tokens]
            staged = copy.deepcopy(result) if skip_moot and len(targets) > 1 else result
            for concrete in targets:
                _apply_one(staged, concrete, action, where, at)
            result = staged
        except Inapplicable as exc:
            if not skip_moot:
                raise
            moot.append(Moot(where, action.index, action.target, exc.message))
    return result, moot


def _applies(document: Any, tokens: list[str], action: Action) -> bool:
    """Whether a wildcard expansion is a place the action can act on."""
    try:
        node = pointer.resolve(document, pointer.join(tokens))
    except KeyError:
        return action.op == "set"
    if action.op == "unrequire":
        return isinstance(node, dict) and any(n in node.get("required", []) for n in action.value)
    return True


def _apply_one(result: dict[str, Any], tokens: list[str], action: Action, where: str, at: str) -> None:
    try:
        parent = pointer.resolve(result, pointer.join(tokens[:-1]))
    except KeyError as exc:
        raise Inapplicable(where, at, f"{action.target} does not resolve (no {exc.args[0]!r})") from None
    last = tokens[-1]
    key: Any
    if isinstance(parent, list):
        if not last.isdigit() or int(last) >= len(parent):
            raise Inapplicable(where, at, f"{action.target} does not resolve")
        key, exists = int(last), True
    elif isinstance(parent, dict):
        key, exists = last, last in parent
    else:
        raise SpecError(where, at, f"{action.target}: parent is not a container")
    if action.op == "set":
        parent[key] = copy.deepcopy(action.value)
    elif action.op == "merge":
        if not exists:
            raise Inapplicable(where, at, f"{action.target} does not resolve")
        if not isinstance(parent[key], dict):
            raise SpecError(where, at, f"{action.target} is not a mapping")
        parent[key].update(copy.deepcopy(action.value))
    elif action.op == "extend":
        if not exists:
            raise Inapplicable(where, at, f"{action.target} does not resolve")
        if not isinstance(parent[key], list):
            raise SpecError(where, at, f"{action.target} is not a list")
        parent[key].extend(v for v in action.value if v not in parent[key])
    elif action.op == "unrequire":
        node = parent[key] if exists else None
        if node is None:
            raise Inapplicable(where, at, f"{action.target} does not resolve")
        if isinstance(node, dict) and "required" not in node:
            raise Inapplicable(where, at, f"{action.target} requires nothing")
        if not isinstance(node, dict) or not isinstance(node.get("required"), list):
            raise SpecError(where, at, f"{action.target} is not a schema with a required list")
        missing = [n for n in action.value if n not in node["required"]]
        if missing and "*" not in action.target:
            raise Inapplicable(where, at, f"{action.target} does not require {', '.join(missing)}")
        node["required"] = [n for n in node["required"] if n not in action.value]
    elif action.op == "nullable_optional":
        if not exists:
            raise Inapplicable(where, at, f"{action.target} does not resolve")
        if not nullable_optional(parent[key]):
            raise Inapplicable(where, at, f"{action.target} has no optional member that rejects null")
    elif action.op == "rename":
        if not exists:
            raise Inapplicable(where, at, f"{action.target} does not resolve")
        if not isinstance(parent, dict) or action.value in parent:
            raise SpecError(
                where, at, f"{action.target}: cannot rename to {action.value!r} (not a mapping key, or taken)"
            )
        parent[action.value] = parent.pop(key)
    else:
        if not exists:
            raise Inapplicable(where, at, f"{action.target} does not resolve")
        del parent[key]


#: ops the models need not read through: a generated optional field is `X | None = None`, so it reads `null`
#: already, and wrapping each member in `anyOf` would only cost the models their docstrings
CHECKS_ONLY = frozenset({"nullable_optional"})


def for_models(overlay: Overlay) -> Overlay:
    """The overlay without the actions the generated models read through anyway (`CHECKS_ONLY`)."""
    kept = tuple(a for a in overlay.actions if a.op not in CHECKS_ONLY)
    return overlay if len(kept) == len(overlay.actions) else replace(overlay, actions=kept)


#: schema keywords whose values are data, not schemas
_DATA = frozenset({"example", "examples", "default", "enum", "const", "discriminator"})


def nullable_optional(schema: Any) -> int:
    """Let each member an object schema at or below `schema` does not require also be `null`; how many
    members changed."""
    changed = 0
    if isinstance(schema, dict):
        props: Any = schema.get("properties")
        required: Any = schema.get("required", [])
        for name, sub in props.items() if isinstance(props, dict) else ():
            if name not in required and isinstance(sub, dict) and not accepts_null(sub):
                props[name] = {"anyOf": [sub, {"type": "null"}]}
                changed += 1
        for key, value in schema.items():
            if key in _DATA or key.startswith("x-"):
                continue  # values, not schemas
            if key != "properties" or not isinstance(value, dict):
                changed += nullable_optional(value)
            else:
                changed += sum(nullable_optional(v) for v in value.values())
    elif isinstance(schema, list):
        changed += sum(nullable_optional(v) for v in schema)
    return changed


def accepts_null(schema: dict[str, Any]) -> bool:
    """Whether a schema says outright that `null` is one of its values (a `$ref` is not followed)."""
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind) or schema.get("nullable") is True:
        return True
    if None in schema.get("enum", [0]) or ("const" in schema and schema["const"] is None):
        return True
    options = schema.get("anyOf", schema.get("oneOf", []))
    return any(isinstance(o, dict) and accepts_null(o) for o in options)


def apply_entries(document: dict[str, Any], entries: list[dict[str, Any]], source: str = "errata") -> dict[str, Any]:
    """Apply actions given as plain mappings (``target`` plus one op), e.g. a bundle's ``x-respkit-errata``."""
    actions = tuple(
        Action(
            target=str(e["target"]),
            op=str(e["op"]),
            value=e["value"],
            kind=str(e.get("kind", "overlay")),
            why=str(e.get("why", "")),
            evidence=tuple(e.get("evidence", [])),
            index=i,
        )
        for i, e in enumerate(entries)
    )
    return apply(document, Overlay(path=Path(source), sha256="", actions=actions))
