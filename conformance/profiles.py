"""Provider profiles (spec/profiles/NAME.yaml): which findings are a provider's known deviations.

A profile is named (`--profile openrouter`) or given as a file (`--profile ./my-provider.yaml`). It holds:

    name: openrouter
    description: one line
    strict: false               # true: the spec as published, errata and drift are failures
    done_sentinel: forbidden    # forbidden | allowed | required: a `data: [DONE]` at the end
    extension_events: []        # event type prefixes this provider adds (reported as deviations)
    models: {text: M, reasoning: R}  # what `respkit check --base-url` asks for (`--model` and
                                     # `--reasoning-model` override; no reasoning model: no reasoning scenario;
                                     # also `raw_reasoning` and `audio`, for their scenarios)
    lacks_tools: [mcp, shell]   # hosted tools the provider does not offer: their scenarios are skipped
    deviations:                 # findings reported as deviations, not failures
      - check: sse_event_line_present   # a check id, or a pattern over ids (`*_matches_schema`)
        pointer: "/output/*/call_id"   # optional, shell-style pattern (or a list) over the finding's JSON Pointer
        message: "*x_search*"          # optional, shell-style pattern over the finding's message
        why: one line
        evidence: [openrouter/raw_reasoning_stream_gpt-oss-20b.sse]

The format is spec/profile.schema.json (JSON Schema); every profile is validated against it on load,
and a bad one is one line naming the file, the line and the JSON Pointer.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from respkit.conformance.checks.context import Options
from respkit.conformance.findings import Finding, Severity

PROFILES = Path(__file__).resolve().parent.parent / "spec" / "profiles"
#: the profile format, shipped beside the profiles and used to validate every profile on load
SCHEMA = PROFILES.parent / "profile.schema.json"
DEFAULT = "openai"


class ProfileError(Exception):
    """A profile that cannot be read: names the file and the JSON Pointer."""


@dataclass(frozen=True)
class Deviation:
    #: a check id, or a shell-style pattern over check ids
    check: str
    #: shell-style patterns over the finding's JSON Pointer (empty: any place)
    pointers: tuple[str, ...]
    why: str
    evidence: tuple[str, ...] = ()
    #: a shell-style pattern over the finding's message (empty: any message)
    message: str = ""

    @property
    def pointer(self) -> str | None:
        return self.pointers[0] if len(self.pointers) == 1 else None

    def matches(self, finding: Finding) -> bool:
        if not fnmatch.fnmatchcase(finding.check, self.check):
            return False
        if self.message and not fnmatch.fnmatchcase(finding.message, self.message):
            return False
        return not self.pointers or any(fnmatch.fnmatchcase(finding.pointer, p) for p in self.pointers)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    strict: bool = False
    done_sentinel: str = "forbidden"
    extension_events: tuple[str, ...] = ()
    deviations: tuple[Deviation, ...] = field(default=())
    model: str | None = None
    reasoning_model: str | None = None
    #: a model that streams its reasoning as `reasoning_text`, and one that speaks (audio events)
    raw_reasoning_model: str | None = None
    audio_model: str | None = None
    #: hosted tools (`code_interpreter`, `mcp`, ...) the provider does not offer
    lacks_tools: frozenset[str] = frozenset()

    def options(self, complete: bool = True) -> Options:
        return Options(
            strict=self.strict,
            extension_prefixes=self.extension_events,
            done_sentinel=self.done_sentinel,
            complete=complete,
        )

    def classify(self, finding: Finding) -> Finding:
        """The finding's severity under this profile."""
        if self.strict:
            if finding.basis != "failure":
                return finding.with_severity(Severity.FAILURE, f"spec as published ({finding.basis}): {finding.note}")
            return finding
        if finding.severity is not Severity.FAILURE:
            return finding
        for dev in self.deviations:
            if dev.matches(finding):
                return finding.with_severity(Severity.DEVIATION, f"{self.name} profile: {dev.why}")
        return finding


def _where(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return path.name


@cache
def _schema_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _problem(data: Any) -> tuple[str, str] | None:
    """The first place where `data` breaks the profile schema (JSON Pointer, what is wrong), or None."""
    error = next(iter(sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    where = "/" + "/".join(str(p) for p in error.path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        known = ", ".join(error.schema.get("properties", {}))
        return f"{where.rstrip('/')}/{extra[0]}", f"unknown member {extra[0]!r} (known: {known})"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{where.rstrip('/')}/{missing}", "required"
    return where if where != "/" else "''", _said(error)


def _said(error: Any) -> str:
    """A schema error in a few words: what the schema wanted there."""
    schema = error.schema
    if "enum" in schema:
        return f"expected one of {', '.join(map(str, schema['enum']))}"
    if error.validator == "type":
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return f"expected {' or '.join(types)}" + (f" ({schema['description']})" if "description" in schema else "")
    if error.validator == "oneOf":
        return "expected a pattern or a list of patterns"
    return str(error.message).split("\n")[0][:160]


def _line(node: Any, pointer: str) -> int | None:
    """The line (1-based) of the YAML node at `pointer` in a composed document, or of its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for token in [t for t in pointer.split("/") if t and t != "''"]:
        child = _child(node, token)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: Any, token: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if getattr(k, "value", None) == token), None)
    if isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
        return node.value[int(token)]
    return None


def parse_profile(path: Path, data: Any, node: Any = None) -> Profile:
    """A profile from its parsed YAML, validated against spec/profile.schema.json first."""
    where = _where(path)
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: at '': expected a mapping")
    problem = _problem(data)
    if problem is not None:
        at, what = problem
        line = _line(node, at)
        raise ProfileError(f"{where}{f':{line}' if line else ''}: at {at}: {what}")
    models = data.get("models") or {}
    return Profile(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        strict=bool(data.get("strict", False)),
        done_sentinel=data.get("done_sentinel", "forbidden"),
        extension_events=tuple(data.get("extension_events") or ()),
        deviations=tuple(_deviation(d) for d in data.get("deviations") or ()),
        model=models.get("text"),
        reasoning_model=models.get("reasoning"),
        raw_reasoning_model=models.get("raw_reasoning"),
        audio_model=models.get("audio"),
        lacks_tools=frozenset(data.get("lacks_tools") or ()),
    )


def _deviation(dev: dict[str, Any]) -> Deviation:
    pointer = dev.get("pointer")
    pointers = (pointer,) if isinstance(pointer, str) else tuple(pointer or ())
    evidence = tuple(dev.get("evidence") or ())
    return Deviation(dev["check"], pointers, str(dev.get("why", "")), evidence, str(dev.get("message", "")))


def load_profile_file(path: Path) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{_where(path)}: cannot read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ProfileError(f"{_where(path)}: at '': not valid YAML (line {mark.line + 1 if mark else '?'})") from None
    return parse_profile(path, data, node)


@cache
def load_profile(name: str) -> Profile:
    """A bundled profile by name, or a profile file by its path (a name ending in `.yaml` or `.yml`)."""
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_file():
            raise ProfileError(f"{name}: no such profile file")
        return load_profile_file(path)
    path = PROFILES / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(f"no profile {name!r} (known: {', '.join(available())}; or give a profile file's path)")
    return load_profile_file(path)


def available() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.yaml"))
