"""`--check ID` / `--exclude-check ID`: which checks' findings a run reports (and fails on).

A check's id is the name it reports under: a registered check function's name, or the first argument of a
live scenario's expectation. Both kinds are known before the run, so a mistyped id is an error at once,
not a gate that silently checks nothing."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from respkit.conformance.replay import Result

#: calls whose first argument (or `check=` keyword) is a check id, outside the registered checks
REPORTING_CALLS = frozenset({"expect", "expect_status", "failure", "Finding", "make_finding"})
HERE = Path(__file__).parent
#: the folders whose code reports findings (the reference server's does not)
REPORTING = (HERE, HERE / "checks", HERE / "live")


@cache
def known_checks() -> frozenset[str]:
    """Every check id respkit can report: the registry's, and the ids its live code reports under."""
    from respkit.conformance.checks import load_all

    found = set(load_all())
    for path in (p for folder in REPORTING for p in folder.glob("*.py")):
        found |= _ids_in(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(found)


def _ids_in(tree: ast.AST) -> set[str]:
    """String ids passed to a reporting call, or assigned to a context's `check`."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in REPORTING_CALLS:
            ids |= {v for v in _first_and_check(node) if v.isidentifier()}
        elif isinstance(node, ast.Assign) and any(_name(t) == "check" for t in node.targets):
            ids |= _strings([node.value])
    return ids


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _first_and_check(call: ast.Call) -> set[str]:
    return _strings(call.args[:1]) | _strings(k.value for k in call.keywords if k.arg == "check")


def _strings(nodes: Iterable[ast.AST]) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def validate(ids: Sequence[str], option: str) -> None:
    """A `UsageError` for the first id respkit does not know, with the closest known ids."""
    from respkit.conformance.cli import UsageError

    if not ids:  # nothing to look up: the ids are read from respkit's sources, ~0.4 s of a command's start
        return
    known = known_checks()
    for check_id in ids:
        if check_id not in known:
            close = difflib.get_close_matches(check_id, sorted(known), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else " (the ids are the check column of a report)"
            raise UsageError(f"{option} {check_id}: no check has this id{hint}")


def check_options(args: Any) -> None:
    """Validate the ids given with `--check` and `--exclude-check`, if the command takes them."""
    validate(getattr(args, "checks", None) or [], "--check")
    validate(getattr(args, "excluded_checks", None) or [], "--exclude-check")


def select(results: Sequence[Result], args: Any) -> list[Result]:
    """The results with only the findings of the checks chosen (all, without `--check`), less the excluded."""
    only = set(getattr(args, "checks", None) or [])
    excluded = set(getattr(args, "excluded_checks", None) or [])
    if not only and not excluded:
        return list(results)
    return [
        replace(r, findings=[f for f in r.findings if (not only or f.check in only) and f.check not in excluded])
        for r in results
    ]
