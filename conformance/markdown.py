"""The Markdown report, shaped for a pull request comment: the verdict and the failures first, the rest
folded in `<details>`. Given a limit (GitHub's 65,536 characters for a comment), it is cut where it must be,
the cut said in a last line that names where the whole report is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from respkit.conformance.findings import Group
from respkit.conformance.redaction import redact
from respkit.conformance.replay import Result
from respkit.conformance.reports import (
    LEGEND,
    Context,
    Coverage,
    cell_text,
    count,
    describe,
    durations,
    matrix,
    root_causes,
    skips,
    tally,
)

#: characters kept free for the line that says what was cut
RESERVE = 600
#: with a limit, one finding shows at most this share of it (a long reproduce line is cut)
BLOCK_SHARE = 8


@dataclass
class Section:
    """A part of the report: a heading (or a folded summary), a fixed opening, and blocks that may be cut."""

    title: str
    noun: str  # what one block is, for the cut line ("failure", "row", ...)
    blocks: list[str] = field(default_factory=list)
    folded: bool = True
    opening: str = ""

    def start(self) -> str:
        if self.folded:
            return f"\n<details><summary>{self.title}</summary>\n\n{self.opening}"
        return f"\n## {self.title}\n\n{self.opening}"

    def end(self) -> str:
        return "\n</details>\n" if self.folded else ""


def render(
    results: Sequence[Result],
    spec: str,
    title: str,
    coverage: Coverage | None,
    context: Context | None,
    limit: int | None,
    full_report: str,
) -> str:
    head = _head(results, spec, title, coverage, context)
    block_limit = limit // BLOCK_SHARE if limit else None
    return _fit(head, _sections(results, block_limit), limit, full_report)


def _head(results: Sequence[Result], spec: str, title: str, coverage: Coverage | None, context: Context | None) -> str:
    failed = any(r.failed for r in results)
    out = [f"# {title}\n", f"Verdict: **{'failed' if failed else 'passed'}** (exit code {int(failed)})\n"]
    out.append(f"**{tally(results)}**\n")
    if context:
        rows = context.rows()
        out += ["| " + " | ".join(k for k, _ in rows) + " |", "|---" * len(rows) + "|"]
        out.append("| " + " | ".join(_cell(v) for _, v in rows) + " |\n")
    else:
        out.append(f"Spec: {spec}.\n")
    out += [f"{coverage.line()}\n"] if coverage else []
    return "\n".join(out)


def _sections(results: Sequence[Result], block_limit: int | None) -> list[Section]:
    """Failures, then folded: what was skipped, the check-by-provider table, the other findings (the longest
    part, so the one a limit cuts first), the slowest scenarios."""
    causes = root_causes(results)
    failures = [g for g in causes if g.first.fails]
    others = [g for g in causes if not g.first.fails]
    skipped = skips(results)
    sections = [
        Section(f"Failures ({len(failures)})", "failure", [_block(g, block_limit) for g in failures], folded=False),
        Section(f"Skipped: {count(len(skipped), 'scenario')}", "skipped scenario", [f"- {s}\n" for s in skipped]),
        _matrix(results),
        Section(
            f"Deviations, drift and undocumented event types: {count(len(others), 'finding')}",
            "deviation, drift or undocumented finding",
            [_block(g, block_limit) for g in others],
        ),
    ]
    timed = durations(results)
    if timed:
        rows = [f"| {_cell(name)} | {seconds} |\n" for name, seconds in timed]
        opening = "| | time |\n|---|---|\n"
        sections.append(Section("Slowest scenarios and recordings", "timing row", rows, opening=opening))
    if not failures:
        sections[0].opening = "No failures.\n"
    return [s for s in sections if s.blocks or s.opening]


def _matrix(results: Sequence[Result]) -> Section:
    checks, providers, cells = matrix(results)
    if not checks:
        return Section("Checks by provider", "check-by-provider row", opening="No check found anything.\n")
    header = "| check | " + " | ".join(providers) + " |\n|---|" + "---|" * len(providers) + "\n"
    rows = [f"| `{c}` | " + " | ".join(cell_text(cells.get((c, p))) for p in providers) + " |\n" for c in checks]
    return Section("Checks by provider", "check-by-provider row", rows, opening=f"{LEGEND}\n\n{header}")


def _block(g: Group, block_limit: int | None) -> str:
    text = describe(g)
    if block_limit is not None and len(text) > block_limit:
        text = text[:block_limit] + "\n… (cut here; the whole finding is in the full report)"
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return f"{fence}\n{text}\n{fence}\n"


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")


def _fit(head: str, sections: list[Section], limit: int | None, full_report: str) -> str:
    """The report, fewer than `limit` characters: sections in order, each block while it fits (measured as
    written: redacted)."""
    text, cut = redact(head), dict[str, tuple[int, int]]()
    for section in sections:
        start, end = redact(section.start()), section.end()
        room = (limit or 0) - 1 - RESERVE - len(end)
        if limit is not None and len(text) + len(start) > room:
            cut[section.noun] = (len(section.blocks), len(section.blocks))
            continue
        text += start
        for i, block in enumerate(map(redact, section.blocks)):
            if limit is not None and len(text) + len(block) > room:
                cut[section.noun] = (len(section.blocks) - i, len(section.blocks))
                break
            text += block
        text += end
    shown = {noun: n for noun, n in cut.items() if n[1]}
    return text + (_cut_line(shown, limit or 0, full_report) if shown else "")


def _cut_line(cut: dict[str, tuple[int, int]], limit: int, full_report: str) -> str:
    what = "; ".join(f"{n} of {count(total, noun)}" for noun, (n, total) in cut.items())
    where = f"`{full_report}`" if full_report else "not written (add `--markdown PATH` for it)"
    return f"\n**Cut to stay under {limit:,} characters** (not shown: {what}); the whole report: {where}.\n"
