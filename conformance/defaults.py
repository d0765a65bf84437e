"""Defaults from the user's project: the `[tool.respkit]` table of `pyproject.toml` in the current folder.

Its keys are long option names, with dashes or underscores (`base-url`, `api_key_env`); a key sets the
default of that option in every command that has it, so a team writes its provider, profile and report
paths once. The command line wins. A key that is no option, or a value of the wrong type, is an error
naming the file and the key: a typo must not be ignored by a CI gate."""

from __future__ import annotations

import argparse
import difflib
import tomllib
from pathlib import Path
from typing import Any

from respkit.conformance.cli import UsageError

TABLE = "[tool.respkit]"
#: options that are actions, not settings
NOT_SETTINGS = frozenset({"help", "version"})


def read(path: Path) -> dict[str, Any]:
    """The `[tool.respkit]` table of `path` (empty without the file or the table)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it for {TABLE}: {exc}") from None
    table = data.get("tool", {}).get("respkit", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: {TABLE} is not a table")
    return table


def apply(parser: argparse.ArgumentParser, path: Path = Path("pyproject.toml")) -> None:
    """Set the defaults of `parser` (and its commands) from `path`'s `[tool.respkit]` table."""
    table = read(path)
    if not table:
        return
    options = long_options(parser)
    for key, value in table.items():
        name = key.replace("_", "-")
        if name not in options:
            raise UsageError(f"{path}: {TABLE} {key}: no respkit option --{name}{_close(name, options)}")
        problems = [problem for action in options[name] if (problem := _set(action, value)) is not None]
        if len(problems) == len(options[name]):  # no command could take it
            raise UsageError(f"{path}: {TABLE} {key}: {problems[0]}, not {value!r}")


def long_options(parser: argparse.ArgumentParser) -> dict[str, list[argparse.Action]]:
    """Every long option of `parser` and its commands, by name without dashes, with the actions that have it."""
    found: dict[str, list[argparse.Action]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                for name, actions in long_options(sub).items():
                    found.setdefault(name, []).extend(actions)
            continue
        for option in action.option_strings:
            if option.startswith("--") and option[2:] not in NOT_SETTINGS:
                found.setdefault(option[2:], []).append(action)
    return found


def _close(name: str, options: dict[str, list[argparse.Action]]) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _set(action: argparse.Action, value: Any) -> str | None:
    """Make `value` `action`'s default; what it should have been when it does not fit."""
    try:
        action.default = _converted(action, value)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def _converted(action: argparse.Action, value: Any) -> Any:
    if action.nargs == 0:  # a flag
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return value
    if action.nargs is None and isinstance(action, argparse._AppendAction):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            raise TypeError("expected a list")
        return [_scalar(action, v) for v in values]
    return _scalar(action, value)


def _scalar(action: argparse.Action, value: Any) -> Any:
    kind = action.type if isinstance(action.type, type) else str
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"expected {_noun(kind)}")
    if kind is str and not isinstance(value, str):
        raise TypeError("expected a string")
    try:
        converted = kind(value)
    except ValueError:
        raise ValueError(f"expected {_noun(kind)}") from None
    if kind is int and converted != value and not isinstance(value, str):
        raise TypeError("expected a whole number")
    if action.choices is not None and converted not in action.choices:
        raise ValueError(f"expected one of {', '.join(map(str, action.choices))}")
    return converted


def _noun(kind: type) -> str:
    return {int: "a whole number", float: "a number"}.get(kind, "a string")
