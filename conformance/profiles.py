"""Provider profiles (spec/profiles/NAME.yaml): which findings are a provider's known deviations.

A profile is named (`--profile openrouter`) or given as a file (`--profile ./my-provider.yaml`). It holds:

    name: openrouter
    description: one line
    strict: false               # true: the spec as published, errata and drift are failures
    done_sentinel: forbidden    # forbidden | allowed | required: a `data: [DONE]` at the end
    extension_events: []        # event type prefixes this provider adds (reported as deviations)
    models: {text: M, reasoning: R}  # what `respkit check --base-url` asks for (`--model` and
                                     # `--reasoning-model` override; no reasoning model: no reasoning scenario)
    deviations:                 # findings reported as deviations, not failures
      - check: sse_event_line_present
        pointer: "/output/*/call_id"   # optional, shell-style pattern over the finding's JSON Pointer
        why: one line
        evidence: [openrouter/raw_reasoning_stream_gpt-oss-20b.sse]
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance.checks.context import Options
from conformance.findings import Finding, Severity

PROFILES = Path(__file__).resolve().parent.parent / "spec" / "profiles"
DEFAULT = "openai"
SENTINEL_CHOICES = ("forbidden", "allowed", "required")


class ProfileError(Exception):
    """A profile that cannot be read: names the file and the JSON Pointer."""


@dataclass(frozen=True)
class Deviation:
    check: str
    pointer: str | None
    why: str

    def matches(self, finding: Finding) -> bool:
        if finding.check != self.check:
            return False
        return self.pointer is None or fnmatch.fnmatchcase(finding.pointer, self.pointer)


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


def parse_profile(path: Path, data: Any) -> Profile:
    where = _where(path)
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: at '': expected a mapping")
    sentinel = data.get("done_sentinel", "forbidden")
    if sentinel not in SENTINEL_CHOICES:
        raise ProfileError(f"{where}: at /done_sentinel: expected one of {', '.join(SENTINEL_CHOICES)}")
    devs = data.get("deviations", []) or []
    if not isinstance(devs, list):
        raise ProfileError(f"{where}: at /deviations: expected a list")
    out = []
    for i, dev in enumerate(devs):
        if not isinstance(dev, dict) or not isinstance(dev.get("check"), str):
            raise ProfileError(f"{where}: at /deviations/{i}/check: expected a check id")
        pointer = dev.get("pointer")
        if pointer is not None and not isinstance(pointer, str):
            raise ProfileError(f"{where}: at /deviations/{i}/pointer: expected a string")
        out.append(Deviation(check=dev["check"], pointer=pointer, why=str(dev.get("why", ""))))
    ext = data.get("extension_events", []) or []
    if not isinstance(ext, list) or not all(isinstance(e, str) for e in ext):
        raise ProfileError(f"{where}: at /extension_events: expected a list of prefixes")
    models = data.get("models") or {}
    if not isinstance(models, dict):
        raise ProfileError(f"{where}: at /models: expected a mapping with `text` and `reasoning`")
    for key, value in models.items():
        if key not in ("text", "reasoning") or not isinstance(value, str):
            raise ProfileError(f"{where}: at /models/{key}: expected `text` or `reasoning`, a model name")
    return Profile(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        strict=bool(data.get("strict", False)),
        done_sentinel=sentinel,
        extension_events=tuple(ext),
        deviations=tuple(out),
        model=models.get("text"),
        reasoning_model=models.get("reasoning"),
    )


def load_profile_file(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{_where(path)}: cannot read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ProfileError(f"{_where(path)}: at '': not valid YAML (line {mark.line + 1 if mark else '?'})") from None
    return parse_profile(path, data)


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
