"""A spec diff as text, Markdown or JSON; breaking changes first."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from respkit.generator.classify import KEYS, LABELS
from respkit.generator.diff import Change, SpecDiff, Version

FORMATS = ("text", "markdown", "json")


def _version(v: Version) -> str:
    return f"{v.source} (sha256 {v.sha256[:12]})"


def _counts(d: SpecDiff) -> str:
    o, n = d.old, d.new
    return (
        f"operations {o.operations} -> {n.operations}, schemas {o.schemas} -> {n.schemas}, "
        f"stream event types {o.event_types} -> {n.event_types}"
    )


def _tally(d: SpecDiff) -> str:
    counts = Counter(KEYS[c.breaks] for c in d.changes)
    return ", ".join(f"{counts[KEYS[impact]]} {LABELS[impact]}" for impact, _ in d.grouped()) or "no changes"


def text(d: SpecDiff) -> str:
    lines = [f"spec diff of /responses: {_version(d.old)} -> {_version(d.new)}", _counts(d), _tally(d)]
    lines += [f"note: {note}" for note in d.notes]
    for impact, changes in d.grouped():
        lines += ["", f"{LABELS[impact]} ({len(changes)}):"]
        lines += [f"  {c.subject}: {c.detail}" for c in changes]
    return "\n".join(lines) + "\n"


def _md(value: str) -> str:
    return value.replace("|", "\\|")


def markdown(d: SpecDiff, level: int = 2) -> str:
    """Markdown; ``level`` is the heading level of the title (sections are one deeper)."""
    h = "#" * level
    lines = [
        f"{h} Spec diff of `/responses`",
        "",
        f"- old: `{_version(d.old)}`",
        f"- new: `{_version(d.new)}`",
        f"- {_counts(d)}",
        f"- {_tally(d)}",
    ]
    lines += [f"- note: {_md(note)}" for note in d.notes]
    for impact, changes in d.grouped():
        lines += [
            "",
            f"{h}# {LABELS[impact].capitalize()} ({len(changes)})",
            "",
            "| what | change | where |",
            "|---|---|---|",
        ]
        lines += [f"| `{_md(c.subject)}` | {_md(c.detail)} | `{_md(c.pointer)}` |" for c in changes]
    return "\n".join(lines) + "\n"


def _change(c: Change) -> dict[str, Any]:
    return {
        "impact": c.impact,
        "breaks": sorted(c.breaks),
        "kind": c.kind,
        "subject": c.subject,
        "pointer": c.pointer,
        "detail": c.detail,
    }


def as_json(d: SpecDiff) -> str:
    data = {
        "old": vars(d.old),
        "new": vars(d.new),
        "summary": {KEYS[impact]: len(changes) for impact, changes in d.grouped()},
        "notes": list(d.notes),
        "changes": [_change(c) for c in d.changes],
    }
    return json.dumps(data, indent=2) + "\n"


def render(d: SpecDiff, fmt: str) -> str:
    if fmt == "markdown":
        return markdown(d)
    if fmt == "json":
        return as_json(d)
    return text(d)
