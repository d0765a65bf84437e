"""spec/CHANGELOG.md: one entry per `respkit spec update`, newest first, each the spec diff in Markdown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from respkit.generator.diff import SpecDiff
from respkit.generator.diff_format import markdown
from respkit.generator.overlay import Moot
from respkit.generator.pin import Lines

HEADER = (
    "# Spec changelog\n\n"
    "Written by `respkit spec update`, newest first: each entry is what changed in the `/responses` closure\n"
    "when the pin in `spec/respkit.yaml` moved, breaking changes first (`respkit spec diff` prints the same).\n"
)
ENTRY_MARK = "\n## "


RECORD = "<!-- respkit spec update: "


def entry(diff: SpecDiff, source: str, sha256: str, when: date, moved_from: Lines, moot: Sequence[Moot] = ()) -> str:
    """An entry: the new pin, a record of the pin lines it replaced (so that moving back can undo it), the
    errata it leaves without a target, then the diff against the previous pin."""
    record = json.dumps({"to": sha256, "from": moved_from}, sort_keys=True)
    lines = [f"## {when.isoformat()}: pinned {source} (sha256 {sha256[:12]})", "", f"{RECORD}{record} -->", ""]
    if moot:
        lines += ["Errata skipped, this spec version has no target for them (one the spec no longer needs can go):", ""]
        lines += [f"- `{item.file}#/actions/{item.index}`: {item.reason}" for item in moot]
        lines += [""]
    return ("\n".join(lines) + "\n" + markdown(diff, level=3)).rstrip("\n") + "\n"


def _top(existing: str) -> tuple[int, int] | None:
    """Where the newest entry starts and where the next one does (or the end)."""
    at = existing.find(ENTRY_MARK)
    if at < 0:
        return None
    following = existing.find(ENTRY_MARK, at + 1)
    return at + 1, following + 1 if following >= 0 else len(existing)


def prepend(existing: str | None, new_entry: str) -> str:
    """The changelog with ``new_entry`` before the newest entry (a fresh file gets the header); `drop_newest`
    takes it out again, byte for byte."""
    if not existing or not existing.strip():
        return f"{HEADER}\n{new_entry}"
    top = _top(existing)
    if top is None:
        return f"{existing if existing.endswith(chr(10)) else existing + chr(10)}\n{new_entry}"
    return f"{existing[: top[0]]}{new_entry}\n{existing[top[0] :]}"


def newest_move(existing: str | None) -> tuple[str, Lines] | None:
    """The newest entry's record: the sha256 it pinned and the pin lines it replaced (None: no record)."""
    top = _top(existing or "")
    if existing is None or top is None:
        return None
    for line in existing[top[0] : top[1]].splitlines():
        if line.startswith(RECORD) and line.endswith(" -->"):
            try:
                record = json.loads(line[len(RECORD) : -4])
                return str(record["to"]), {str(k): str(v) for k, v in record["from"].items()}
            except (ValueError, KeyError, TypeError, AttributeError):
                return None
    return None


def drop_newest(existing: str) -> str:
    """The changelog without its newest entry, as it was before `prepend` added it."""
    top = _top(existing)
    if top is None:
        return existing
    start, end = top
    if end < len(existing):
        return existing[:start] + existing[end:]
    return existing[: start - 1]
