"""A providers file (`pytest --respkit-providers FILE`): the targets a team checks, each under one or more
profiles, so that pytest (and pytest-xdist, or a CI matrix over the file) runs targets x profiles.

    targets:
      - name: reference                    # letters, digits, `_`, `.`, `-`: part of each item's id
        base_url: http://127.0.0.1:8000/v1
        api_key_env: RESPKIT_KEY            # the variable holding the key; leave it out for a keyless target
        profiles: [openai, strict]          # or `profile: NAME`; a profile file is named relative to FILE
        models: {text: gpt-4.1-mini, reasoning: o4-mini}   # optional, as in a profile
        scenarios: [text, text_stream]      # optional: only these (and then no schemathesis phase)
        schemathesis: true                  # optional: the schemathesis phase as one more item
        timeout: 60                         # optional: seconds to wait for any answer or data

YAML (`.yaml`, `.yml`) or TOML (`.toml`, an array of `[[targets]]` tables). A mistake is one line naming
the file and the JSON Pointer.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from respkit.conformance.live.scenarios import SCENARIOS

#: the keys a target may have, and what each must be (for the one-line error)
KEYS = {
    "name": "a name of letters, digits, '_', '.', '-'",
    "base_url": "an http:// or https:// URL",
    "api_key_env": "an environment variable's name",
    "profile": "a profile name or file",
    "profiles": "a list of profile names or files",
    "models": "a mapping with `text` and/or `reasoning`",
    "scenarios": "a list of scenario names",
    "schemathesis": "true or false",
    "timeout": "a positive number of seconds",
}
NAME = re.compile(r"[A-Za-z0-9_.-]+")


class ProvidersError(Exception):
    """A providers file that cannot be used: one line naming the file and the JSON Pointer."""


@dataclass(frozen=True)
class Target:
    """One provider under one profile: a column of the matrix."""

    name: str
    base_url: str
    #: the variable holding the key; None: a keyless target (no Authorization header)
    key_env: str | None
    profile: str
    model: str | None = None
    reasoning_model: str | None = None
    #: only these scenarios (None: all of them)
    scenarios: tuple[str, ...] | None = None
    schemathesis: bool = True
    timeout: float = 60.0

    @property
    def profile_id(self) -> str:
        """The profile's part of an item's id: its name, or a profile file's stem."""
        return Path(self.profile).stem if self.profile.endswith((".yaml", ".yml")) else self.profile

    @property
    def label(self) -> str:
        """The target and profile as reports name them: `reference[openai]`."""
        return f"{self.name}[{self.profile_id}]"


def load_providers(path: Path, default_profile: str) -> list[Target]:
    """Every (target, profile) pair of the file, in its order."""
    data = _read(path)
    where = path.as_posix()
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list) or not data["targets"]:
        raise ProvidersError(f"{where}: at /targets: expected a non-empty list of targets")
    targets: list[Target] = []
    for i, entry in enumerate(data["targets"]):
        found = _targets(entry, f"{where}: at /targets/{i}", path.parent, default_profile)
        twice = next((t.label for t in found if t.label in {s.label for s in targets}), None)
        if twice:
            raise ProvidersError(f"{where}: at /targets/{i}/name: {twice} is listed twice")
        targets += found
    return targets


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvidersError(f"{path}: cannot read ({type(exc).__name__})") from None
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError):
        raise ProvidersError(f"{path}: at '': not valid {path.suffix[1:].upper()}") from None
    raise ProvidersError(f"{path}: expected a .yaml, .yml or .toml file")


def _targets(entry: Any, where: str, folder: Path, default_profile: str) -> list[Target]:
    if not isinstance(entry, dict):
        raise ProvidersError(f"{where}: expected a mapping")
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise ProvidersError(f"{where}/{unknown[0]}: unknown member (known: {', '.join(KEYS)})")
    for key in ("name", "base_url"):
        if key not in entry:
            raise ProvidersError(f"{where}/{key}: required")
    for key, value in entry.items():
        if not _valid(key, value):
            raise ProvidersError(f"{where}/{key}: expected {KEYS[key]}")
    return [_target(entry, _profile_ref(p, folder)) for p in _profiles(entry, default_profile)]


def _valid(key: str, value: Any) -> bool:
    """Whether a target's member has the form its key needs."""
    if key == "name":
        return isinstance(value, str) and NAME.fullmatch(value) is not None
    if key == "base_url":
        return isinstance(value, str) and value.startswith(("http://", "https://"))
    if key in ("api_key_env", "profile"):
        return isinstance(value, str) and bool(value)
    if key == "profiles":
        return isinstance(value, list) and bool(value) and all(isinstance(p, str) and p for p in value)
    if key == "models":
        return isinstance(value, dict) and set(value) <= {"text", "reasoning"} and _all_str(value.values())
    if key == "scenarios":
        return isinstance(value, list) and bool(value) and all(s in SCENARIOS for s in value)
    if key == "schemathesis":
        return isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _all_str(values: Any) -> bool:
    return all(isinstance(v, str) and v for v in values)


def _profiles(entry: dict[str, Any], default: str) -> list[str]:
    if "profiles" in entry:
        return list(entry["profiles"])
    return [entry.get("profile", default)]


def _profile_ref(name: str, folder: Path) -> str:
    """A profile file named relative to the providers file, as sidecars name theirs; a name as it is."""
    if name.endswith((".yaml", ".yml")) and not Path(name).is_absolute():
        return (folder / name).as_posix()
    return name


def _target(entry: dict[str, Any], profile: str) -> Target:
    models = entry.get("models", {})
    scenarios = entry.get("scenarios")
    return Target(
        name=entry["name"],
        base_url=entry["base_url"],
        key_env=entry.get("api_key_env"),
        profile=profile,
        model=models.get("text"),
        reasoning_model=models.get("reasoning"),
        scenarios=tuple(scenarios) if scenarios else None,
        schemathesis=entry.get("schemathesis", scenarios is None),
        timeout=float(entry.get("timeout", 60.0)),
    )
