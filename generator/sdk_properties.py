"""SDK-only properties: members the spec documents on a schema but marks as computed by the SDKs.

The spec marks them with `x-oaiSupportedSDKs` (on the property, or on a member of its `anyOf`):
`Response.output_text` is "SDK-only convenience property that contains the aggregated text output".
No server sends them, so a model that made them fields would always read None. The models get them as
computed Python properties instead: each is rendered from `templates/properties/NAME.py.jinja` into its
schema's class. A marked property without a template stops the generator, so that a new one is noticed
rather than silently read as an empty field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respkit.generator import pointer
from respkit.generator.errors import SpecError

MARKER = "x-oaiSupportedSDKs"
TEMPLATES = Path(__file__).parent / "templates" / "properties"
SCHEMAS = "/components/schemas"


@dataclass(frozen=True)
class SdkProperty:
    """One marked property: the component schema whose class gets it, its name, and what the spec says."""

    schema: str
    name: str
    description: str
    at: str


def _marked(prop: Any) -> bool:
    if not isinstance(prop, dict):
        return False
    members = [m for key in ("anyOf", "oneOf") for m in prop.get(key) or [] if isinstance(m, dict)]
    return MARKER in prop or any(MARKER in m for m in members)


def _description(prop: dict[str, Any]) -> str:
    """The spec's description of a marked property, on one line, safe inside a docstring."""
    members = [prop, *(m for key in ("anyOf", "oneOf") for m in prop.get(key) or [] if isinstance(m, dict))]
    text = next((m["description"] for m in members if isinstance(m.get("description"), str)), "")
    return " ".join(text.split()).replace("\\", "\\\\").replace('"""', "'''")


def _holders(node: dict[str, Any], at: str) -> list[tuple[dict[str, Any], str]]:
    """The nodes whose `properties` are the schema's own: the schema and its inline `allOf` members."""
    found = [(node, at)]
    for i, member in enumerate(node.get("allOf") or []):
        if isinstance(member, dict) and "$ref" not in member:
            found.extend(_holders(member, f"{at}/allOf/{i}"))
    return found


def strip_sdk_properties(document: dict[str, Any], source: str = "spec") -> list[SdkProperty]:
    """Remove the marked properties from the component schemas of ``document`` (in place) and return them.
    A marker anywhere else (an inline schema, a parameter) is an error: respkit would not know which
    class should compute it."""
    found: list[SdkProperty] = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        if isinstance(schema, dict):
            for holder, at in _holders(schema, f"{SCHEMAS}/{pointer.escape(name)}"):
                found.extend(_strip(holder, name, at))
    left = _markers(document, "")
    if left:
        raise SpecError(source, left[0], f"a property marked {MARKER} outside a component schema's own properties")
    return found


def _strip(holder: dict[str, Any], schema: str, at: str) -> list[SdkProperty]:
    """Remove the marked properties of one holder (and their `required` entries)."""
    props = holder.get("properties")
    if not isinstance(props, dict):
        return []
    found = []
    for key in [k for k, prop in props.items() if _marked(prop)]:
        prop = props.pop(key)
        found.append(SdkProperty(schema, key, _description(prop), f"{at}/properties/{pointer.escape(key)}"))
    if found and isinstance(holder.get("required"), list):
        holder["required"] = [r for r in holder["required"] if r not in {f.name for f in found}]
    return found


def _markers(node: Any, at: str) -> list[str]:
    """The pointers of every marker left in ``node``."""
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _markers(v, f"{at}/{i}")]
    if not isinstance(node, dict):
        return []
    here = [at] if MARKER in node else []
    return here + [p for k, v in node.items() for p in _markers(v, f"{at}/{pointer.escape(str(k))}")]


def render_property(prop: SdkProperty, source: str = "spec") -> str:
    """The property's source, indented for its class body, from `templates/properties/NAME.py.jinja`."""
    import jinja2

    path = TEMPLATES / f"{prop.name}.py.jinja"
    if not path.is_file():
        hint = f"add generator/templates/properties/{prop.name}.py.jinja to compute it"
        raise SpecError(source, prop.at, f"marked SDK-only ({MARKER}) but respkit has no template for it: {hint}")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return env.from_string(path.read_text(encoding="utf-8")).render(prop=prop).rstrip("\n")


def add_properties(code: str, props: list[SdkProperty], source: str = "spec") -> str:
    """Datamodel-code-generator's module with each SDK-only property added to the end of its class."""
    for prop in props:
        block = re.search(rf"^class {re.escape(prop.schema)}\(.*?(?=\n\n\nclass |\n*\Z)", code, re.M | re.S)
        if block is None:
            raise SpecError(source, prop.at, f"no generated class {prop.schema} to compute {prop.name} on")
        code = code[: block.end()] + "\n\n" + render_property(prop, source) + code[block.end() :]
    return code
