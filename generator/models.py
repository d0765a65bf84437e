"""Pydantic v2 models of the closure, through datamodel-code-generator."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from respkit.generator.cache import keep_entry, load_entry
from respkit.generator.sdk_properties import add_properties, strip_sdk_properties

# The options are part of the generated output's contract: change one and regenerate.
CODEGEN_OPTIONS: dict[str, Any] = {
    "input_file_type": "openapi",
    "output_model_type": "pydantic_v2.BaseModel",
    "target_python_version": "3.11",
    # a single-valued enum is a Literal tag; multi-valued enums are Literals too, so that no
    # numbered Enum classes (Type2 ... Type202) appear and names stay stable as the spec grows
    "enum_field_as_literal": "all",
    # inline schemas are named after the path of their parents (ResponseErrorEventError), never with
    # collision counters (Error1, Output1) that shift when the spec adds a schema
    "naming_strategy": "parent-prefixed",
    "use_annotated": True,
    "field_constraints": True,
    "use_union_operator": True,
    "use_standard_collections": True,
    "use_double_quotes": True,
    # annotations are evaluated once with the class body, not compiled again from strings by pydantic
    # (a `from __future__ import annotations` module costs ~1,100 `compile` calls at import)
    "disable_future_imports": True,
    # a field's description is its attribute docstring (read by editors and `help`), not a runtime
    # `Field(description=...)`: ~900 fewer FieldInfo objects to build and merge at import
    "use_field_description": True,
    "disable_timestamp": True,
    "collapse_root_models": True,
    # readers keep what they do not know: unknown fields land in `model_extra`
    "extra_fields": "allow",
    "formatters": ["builtin"],
    # the formatter would otherwise take its settings from whatever pyproject.toml the working directory
    # has, and `generate --check` would depend on where it runs
    "builtin_format_line_length": 120,
    "openapi_scopes": ["schemas"],
    # a value read is the value sent: pydantic's AnyUrl would rewrite `https://example.com` to `https://example.com/`
    "type_mappings": ["string+uri=string"],
}


# The one mypy error code the models module turns off, and why: an `allOf` that narrows an inherited
# property (ComputerCallOutputItemParam narrows `status`, Response narrows `top_logprobs`) becomes a
# subclass redefining the field with a narrower type. Pydantic validates that as intended; mypy calls
# every such redefinition an incompatible override. Everything else in the module is checked strictly.
MYPY_DIRECTIVE = '# mypy: disable-error-code="assignment"'


# What `create()` reads: the models module defines these and every model they reach; the other models
# (request bodies, input items, stream events, other operations' bodies) live in `_models_more`, which
# `models` imports on the first access to one of its names. A cold `create()` so defines ~2/3 of the classes.
EAGER_ROOTS = ("Response",)
MORE_MODULE = "_models_more"
MORE_NOTE = "The models `Response` does not reach: `models` imports this module on first access to one of them."


def render_models(document: dict[str, Any], header: str) -> dict[str, str]:
    """The models modules' sources for an OpenAPI document: `models.py` and `_models_more.py`."""
    document = copy.deepcopy(document)
    computed = strip_sdk_properties(document)
    reader_shapes(document)
    return split_models(add_properties(generate_models(document, header), computed))


def generate_models(document: dict[str, Any], header: str) -> str:
    """Generate the models module's source for an OpenAPI document. datamodel-code-generator runs with a
    placeholder header (one line, as every header is), so that its output, kept by `_models_key`, serves
    every spec file name and sha256 the header may name."""
    if "\n" in header:
        raise ValueError("the models' header is one line")
    text = json.dumps(document, sort_keys=True)
    key = _models_key(text)
    code = _GENERATED.get(key)
    if code is None:
        kept = load_entry("models", key)
        if kept is None:
            code = _codegen(text)
            keep_entry("models", key, code.encode("utf-8"))
        else:
            code = kept.decode("utf-8")
        _GENERATED.clear()  # one kept in memory: a command renders one closure, a test session a few
        _GENERATED[key] = code
    if not code.startswith(_PLACEHOLDER + "\n"):
        raise ValueError("datamodel-code-generator moved the header")
    return defer_builds(header + code.removeprefix(_PLACEHOLDER))


#: datamodel-code-generator's output for the last input of this process, by `_models_key`
_GENERATED: dict[str, str] = {}
#: the header datamodel-code-generator is given, replaced by the real one
_PLACEHOLDER = "# respkit: the models' header"


def _models_key(text: str) -> str:
    """Everything datamodel-code-generator's output depends on: the document, the options, its version and
    Python's (the formatter is its builtin one, set by CODEGEN_OPTIONS alone)."""
    parts = [text, _PLACEHOLDER, MYPY_DIRECTIVE, CODEGEN_OPTIONS, codegen_version(), sys.version_info[:2]]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def _codegen(text: str) -> str:
    import datamodel_code_generator as dcg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = dcg.generate(
            text,
            custom_file_header=f"{_PLACEHOLDER}\n{MYPY_DIRECTIVE}",
            settings_path=Path(__file__).parent,
            **CODEGEN_OPTIONS,
        )
    assert isinstance(code, str)
    return code


# How the models read values, beyond the spec's types (applied to the models' copy of the document only):
# - a JSON number keeps its kind: `number` reads as `float | int`, so the `1` a server sent is read, and
#   written back, as `1`, not `1.0`;
# - a nullable value with constraints (`anyOf: [{type: number, minimum: 0, maximum: 2}, {type: null}]`)
#   becomes one node (`type: [number, "null"]` with its constraints): datamodel-code-generator would make
#   the constrained member a model of its own, and `response.temperature` would be a `RootModel`, not a float;
# - a constrained scalar among other members of a union (`oneOf: [{type: string, maxLength: N}, {type: array}]`)
#   loses its constraints: datamodel-code-generator would make it a `RootModel` (a file search result's string
#   attribute would read as one); the bound is the server's to check on what a request sends;
# - an object with no members of its own and any others allowed (`additionalProperties: true`, as
#   `text.format.schema`) reads as a `dict`, not as an empty model that holds everything in `model_extra`.
CONSTRAINTS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
     "pattern", "minItems", "maxItems", "uniqueItems"}
)  # fmt: skip
_COMPOSED = ("$ref", "properties", "anyOf", "oneOf", "allOf")
SCALARS = ("string", "number", "integer", "boolean")
_NOT_SCHEMA = ("example", "examples", "x-oaiMeta", "default", "enum", "const")


def reader_shapes(node: Any) -> None:
    """Apply the reading rules above to every schema under ``node``, in place."""
    if isinstance(node, list):
        for value in node:
            reader_shapes(value)
        return
    if not isinstance(node, dict):
        return
    _merge_nullable(node)
    _unconstrain_union_members(node)
    _keep_integers(node)
    _open_object_as_dict(node)
    for key, value in node.items():
        if key not in _NOT_SCHEMA:
            reader_shapes(value)


def _nullable_member(node: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """`(keyword, member)` when ``node`` is `anyOf` (or `oneOf`) of one constrained scalar or array and null."""
    key = next((k for k in ("anyOf", "oneOf") if k in node), None)
    members = node.get(key) if key else None
    if key is None or not isinstance(members, list) or len(members) != 2 or "properties" in node:
        return None
    rest = [m for m in members if m != {"type": "null"}]
    member = rest[0] if len(rest) == 1 else None
    if not isinstance(member, dict) or not isinstance(member.get("type"), str):
        return None
    simple = not any(k in member for k in _COMPOSED) and bool(CONSTRAINTS & set(member))
    return (key, member) if simple else None


def _merge_nullable(node: dict[str, Any]) -> None:
    """`anyOf: [constrained scalar or array, null]` -> that member with null in its `type` (see above)."""
    found = _nullable_member(node)
    if found is None:
        return
    key, member = found
    del node[key]
    merged = {k: v for k, v in member.items() if k not in ("default", "example", "examples")}
    merged["type"] = [member["type"], "null"]
    if "description" in node:
        merged.pop("description", None)
    node.update(merged)


def _unconstrain_union_members(node: dict[str, Any]) -> None:
    for key in ("anyOf", "oneOf"):
        members = node.get(key)
        if isinstance(members, list) and len([m for m in members if m != {"type": "null"}]) > 1:
            for member in members:
                if isinstance(member, dict) and member.get("type") in SCALARS and not set(_COMPOSED) & set(member):
                    for keyword in CONSTRAINTS & set(member):
                        del member[keyword]


def _open_object_as_dict(node: dict[str, Any]) -> None:
    if node.get("type") == "object" and node.get("additionalProperties") is True and not set(_COMPOSED) & set(node):
        node["additionalProperties"] = {}


def _keep_integers(node: dict[str, Any]) -> None:
    kind = node.get("type")
    if kind == "number":
        node["type"] = ["number", "integer"]
    elif isinstance(kind, list) and "number" in kind and "integer" not in kind:
        node["type"] = [t for k in kind for t in ((k, "integer") if k == "number" else (k,))]


# Schemas are built on first use, not at import: a process that reads one `Response` builds the schemas
# that `Response` reaches, once, instead of ~300 validators at import (and `RootModel[Union[...]]`, which
# a plain RootModel parametrises eagerly, would build every event and item schema at import). The models
# stay datamodel-code-generator's: only their two pydantic bases change, to subclasses with `defer_build`.
TYPING_IMPORT = "from typing import TYPE_CHECKING, Generic, TypeVar\n"
DEFERRED_BASES = """

_T = TypeVar("_T")


class _Model(BaseModel):
    \"\"\"The base of every model: its schema and validator are built on first use.\"\"\"

    model_config = ConfigDict(defer_build=True)

    if TYPE_CHECKING:
        #: the `x-request-id` of the HTTP response an operation's answer came in, as the openai SDK gives it:
        #: set by the client on the object it returns (a plain attribute, never dumped), absent on others
        _request_id: str | None


class _RootModel(RootModel[_T], Generic[_T]):
    \"\"\"The base of every root model: its schema and validator are built on first use.\"\"\"

    model_config = ConfigDict(defer_build=True)
"""


def defer_builds(code: str) -> str:
    """Datamodel-code-generator's module with deferred schema builds (see DEFERRED_BASES)."""
    code = re.sub(r"^(class \w+\()BaseModel\):", r"\1_Model):", code, flags=re.M)
    code = re.sub(r"^(class \w+\(\s*)RootModel\[", r"\1_RootModel[", code, flags=re.M)
    # an explicit rebuild would build the schema at import; a deferred model resolves its names on first use
    code = re.sub(r"^\w+\.model_rebuild\(\)$\n?", "", code, flags=re.M)
    left = re.findall(r"^class \w+\(\s*(?:BaseModel\)|RootModel\[)", code, re.M)
    if left:
        raise ValueError(f"generated classes the deferred bases missed: {left}")
    imports = re.search(r"^from pydantic import .*\n", code, re.M)
    if imports is None:
        raise ValueError("the generated models do not import pydantic")
    code = code[: imports.end()] + TYPING_IMPORT + DEFERRED_BASES + code[imports.end() :]
    return code.rstrip("\n") + "\n"


def _blocks(code: str) -> tuple[str, list[tuple[str, str]]]:
    """The module's preamble (header, imports, deferred bases) and its classes, as (name, source) in order."""
    parts = re.split(r"\n\n\n(?=class )", code.rstrip("\n"))
    preamble, classes = parts[0], []
    for part in parts[1:]:
        name = re.match(r"class (\w+)", part)
        assert name is not None
        classes.append((name.group(1), part))
    return preamble, classes


def split_models(code: str) -> dict[str, str]:
    """`models.py` (the classes `EAGER_ROOTS` reach) and `_models_more.py` (the rest, loaded on first use)."""
    preamble, classes = _blocks(code)
    names = {name for name, _ in classes}
    uses = {name: set(re.findall(r"\b[A-Za-z_]\w*\b", body)) & (names - {name}) for name, body in classes}
    eager: set[str] = set()
    todo = [root for root in ("_Model", "_RootModel", *EAGER_ROOTS) if root in names]
    while todo:
        name = todo.pop()
        if name not in eager:
            eager.add(name)
            todo.extend(uses[name])
    more = [(name, body) for name, body in classes if name not in eager]
    if not more:
        return {"models.py": code}
    imports, _, bases = preamble.partition("\n\n\n_T = ")
    more_names = [name for name, _ in more]
    needed = sorted(set().union(*(uses[name] for name, _ in more)) & eager)
    lazy = "\n".join(
        [
            "",
            "if TYPE_CHECKING:",
            *(f"    from .{MORE_MODULE} import {name} as {name}" for name in more_names),
            "",
            f"#: the models defined in `{MORE_MODULE}`, imported on first use",
            "_MORE = frozenset({",
            *(f'    "{name}",' for name in more_names),
            "})",
            "",
            "__all__ = [",
            *(f'    "{name}",' for name, _ in classes if not name.startswith("_")),
            "]",
            "",
            "",
            "def __getattr__(name: str) -> object:",
            "    if name in _MORE:",
            "        from importlib import import_module",
            "",
            f'        return getattr(import_module(".{MORE_MODULE}", __package__), name)',
            '    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
            "",
            "",
            "def __dir__() -> list[str]:",
            "    return sorted([*globals(), *_MORE])",
        ]
    )
    eager_source = "\n\n\n".join(
        [
            imports + "\n\n\n_T = " + bases,
            *(b for n, b in classes if n in eager),
        ]
    )
    more_imports = "\n".join(
        [
            imports.replace(MYPY_DIRECTIVE, f"{MYPY_DIRECTIVE}\n# {MORE_NOTE}"),
            "",
            "from .models import (",
            *(f"    {name}," for name in needed),
            ")",
        ]
    )
    more_source = "\n\n\n".join([more_imports, *(body for _, body in more)])
    return {"models.py": eager_source + "\n\n" + lazy + "\n", f"{MORE_MODULE}.py": more_source + "\n"}


def codegen_version() -> str:
    from importlib.metadata import version

    return version("datamodel-code-generator")
