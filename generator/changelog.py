"""spec/CHANGELOG.md: one entry per `respkit spec update`, newest first, each the spec diff in Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from respkit.generator.diff import SpecDiff
from respkit.generator.diff_format import markdown
from respkit.generator.overlay import Moot

HEADER = (
    "# Spec changelog\n\n"
    "Written by `respkit spec update`, newest first: each entry is what changed in the `/responses` closure\n"
    "when the pin in `spec/respkit.yaml` moved, breaking changes first (`respkit spec diff` prints the same).\n"
)
ENTRY_MARK = "\n## "


def entry(
    diff: SpecDiff | None, source: str, sha256: str, when: date, previous: str = "", moot: Sequence[Moot] = ()
) -> str:
    """An entry: the new pin, the errata it leaves without a target, then the diff against the previous pin
    (or why there is none)."""
    lines = [f"## {when.isoformat()}: pinned {source} (sha256 {sha256[:12]})", ""]
    if moot:
        lines += ["Errata skipped, this spec version has no target for them (one the spec no longer needs can go):", ""]
        lines += [f"- `{item.file}#/actions/{item.index}`: {item.reason}" for item in moot]
        lines += [""]
    if diff is None:
        lines += [f"The previous pin could not be read ({previous}); no diff.", ""]
        return "\n".join(lines)
    return "\n".join(lines) + "\n" + markdown(diff, level=3)


def prepend(existing: str | None, new_entry: str) -> str:
    """The changelog with ``new_entry`` before the newest entry (a fresh file gets the header)."""
    if not existing or not existing.strip():
        return f"{HEADER}\n{new_entry}"
    at = existing.find(ENTRY_MARK)
    if at < 0:
        return f"{existing.rstrip()}\n\n{new_entry}"
    return f"{existing[: at + 1]}{new_entry}\n{existing[at + 1 :]}"
