"""Reports of a replay or live run: JSON, JUnit XML, Markdown and HTML, each written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from respkit.conformance.findings import Finding, Severity
from respkit.conformance.redaction import redact
from respkit.conformance.replay import Result, display

TEMPLATES = Path(__file__).parent / "templates"


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it into place; secrets redacted (every report
    is written here)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(redact(text))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def summary(results: Sequence[Result]) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for r in results:
        for f in r.findings:
            counts[f.severity.value] += 1
    return {"recordings": len(results), "failed_recordings": sum(r.failed for r in results), **counts}


@dataclass(frozen=True)
class Coverage:
    """What a live check exercised, of what the spec defines."""

    operations: tuple[str, ...]  # the spec's operations
    answered: tuple[str, ...]  # those that answered 2xx
    event_types: int  # the spec's stream event types
    seen: tuple[str, ...]  # those the streams carried

    def line(self) -> str:
        missing = sorted(set(self.operations) - set(self.answered))
        return (
            f"coverage: {len(self.answered)} of {len(self.operations)} operations answered 2xx; "
            f"{len(self.seen)} of {self.event_types} stream event types seen"
            + (f" (no 2xx from: {', '.join(missing)})" if missing else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "operations": list(self.operations),
            "answered": list(self.answered),
            "event_types": self.event_types,
            "seen": list(self.seen),
        }


def to_json(results: Sequence[Result], spec: str, coverage: Coverage | None = None) -> str:
    data: dict[str, Any] = {
        "spec": spec,
        "summary": summary(results),
        **({"coverage": coverage.to_dict()} if coverage else {}),
        "recordings": [_entry(r) for r in results],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _entry(result: Result) -> dict[str, Any]:
    rec = result.recording
    entry: dict[str, Any] = {
        "recording": rec.display,
        "provider": rec.provider,
        "profile": rec.profile,
        "kind": rec.kind,
        "live": rec.live,
    }
    if rec.skipped:
        entry["skipped"] = rec.skipped
    if rec.resumes:
        entry["resumes"] = [display(rec.resumes[0]), rec.resumes[1]]
    entry["findings"] = [f.to_dict() for f in result.findings]
    return entry


def describe(f: Finding) -> str:
    lines = [f"[{f.severity.value}] {f.check}: {f.message}", f"  where: {f.where()}"]
    if f.expected:
        lines.append(f"  expected: {f.expected}")
    if f.received:
        lines.append(f"  received: {f.received}")
    if f.note:
        lines.append(f"  note: {f.note}")
    if f.reproduce:
        lines.append(f"  reproduce: {f.reproduce}")
    return "\n".join(lines)


def to_junit(results: Sequence[Result], spec: str) -> str:
    suites = ET.Element("testsuites", name=f"respkit ({spec})")
    by_provider: dict[str, list[Result]] = {}
    for r in results:
        by_provider.setdefault(r.recording.provider, []).append(r)
    for provider, rs in sorted(by_provider.items()):
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=provider,
            tests=str(len(rs)),
            failures=str(sum(r.failed for r in rs)),
            skipped=str(sum(bool(r.recording.skipped) and not r.failed for r in rs)),
        )
        for r in rs:
            case = ET.SubElement(suite, "testcase", classname=provider, name=r.recording.display)
            failures = [f for f in r.findings if f.fails]
            if failures:
                node = ET.SubElement(case, "failure", message=f"{len(failures)} failure(s): {failures[0].check}")
                node.text = "\n\n".join(describe(f) for f in failures)
            if r.recording.skipped and not failures:
                ET.SubElement(case, "skipped", message=r.recording.skipped)
            others = [f for f in r.findings if not f.fails]
            if others:
                ET.SubElement(case, "system-out").text = "\n\n".join(describe(f) for f in others)
    return ET.tostring(suites, encoding="unicode") + "\n"


def matrix(results: Sequence[Result]) -> tuple[list[str], list[str], dict[tuple[str, str], dict[str, int]]]:
    """(checks, providers, counts by (check, provider) and severity) for the checks that reported anything."""
    cells: dict[tuple[str, str], dict[str, int]] = {}
    providers = sorted({r.recording.provider for r in results})
    for r in results:
        for f in r.findings:
            cell = cells.setdefault((f.check, r.recording.provider), {})
            cell[f.severity.value] = cell.get(f.severity.value, 0) + 1
    checks = sorted({c for c, _ in cells})
    return checks, providers, cells


def cell_text(cell: dict[str, int] | None) -> str:
    if not cell:
        return "ok"
    order = (("failure", "F"), ("deviation", "D"), ("drift", "~"), ("undocumented", "U"))
    return " ".join(f"{label}{cell[k]}" for k, label in order if cell.get(k))


LEGEND = (
    "Cells count findings: F failures, D deviations (known to the profile, or where the spec is wrong), "
    "~ drift (recorded before the spec asked for it), U undocumented (an event type the spec does not define); "
    "ok: none. Only failures fail a run."
)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def tally(results: Sequence[Result]) -> str:
    """One line: what was checked (live scenarios, recordings or both), how many failed, findings by severity."""
    live = sum(r.recording.live for r in results)
    recorded = len(results) - live
    skipped = len(skips(results))
    parts = [count(live, "live scenario") + (f" ({skipped} skipped)" if skipped else "")] if live else []
    if recorded or not live:
        parts.append(count(recorded, "recording"))
    s = summary(results)
    return (
        f"{' and '.join(parts)}: {s['failed_recordings']} failed; "
        f"{count(s['failure'], 'failure')}, {count(s['deviation'], 'deviation')}, {s['drift']} drift"
        + (f", {count(s['undocumented'], 'undocumented event type')}" if s["undocumented"] else "")
    )


def skips(results: Sequence[Result]) -> list[str]:
    """`name: why` for each live scenario that could not do what it is for."""
    return [
        f"{r.recording.display.removeprefix('live: ')}: {r.recording.skipped}" for r in results if r.recording.skipped
    ]


def _counts(findings: Sequence[Finding]) -> str:
    by = {sev: sum(f.severity is sev for f in findings) for sev in Severity}
    return ", ".join(f"{n} {sev.value}" for sev, n in by.items() if n)


def _with_findings(results: Sequence[Result]) -> list[Result]:
    """Results that have findings, failed ones first (in their run order otherwise)."""
    return sorted((r for r in results if r.findings), key=lambda r: not r.failed)


def to_markdown(
    results: Sequence[Result], spec: str, title: str = "respkit replay", coverage: Coverage | None = None
) -> str:
    checks, providers, cells = matrix(results)
    out = [f"# {title}\n", f"Spec: {spec}.\n", f"**{tally(results)}**\n"]
    out += [f"{coverage.line()}\n"] if coverage else []
    out.append(f"{LEGEND}\n")
    if checks:
        out += ["| check | " + " | ".join(providers) + " |", "|---|" + "---|" * len(providers)]
        out += [f"| `{c}` | " + " | ".join(cell_text(cells.get((c, p))) for p in providers) + " |" for c in checks]
    else:
        out.append("No check found anything.")
    skipped = skips(results)
    if skipped:
        out.append("\n## Skipped\n")
        out += [f"- {line}" for line in skipped]
    shown = _with_findings(results)
    if shown:
        out.append("\n## Findings")
    for r in shown:
        out.append(f"\n### {r.recording.display} ({r.recording.profile}): {_counts(r.findings)}\n")
        out += ["```\n" + describe(f) + "\n```" for f in r.findings]
    return "\n".join(out) + "\n"


_CSS = {"F": "F", "D": "D", "~": "drift", "U": "undocumented", "o": "ok"}


def to_html(
    results: Sequence[Result], spec: str, title: str = "respkit replay", coverage: Coverage | None = None
) -> str:
    """A self-contained page (no scripts, no external files): verdict, matrix, findings by recording."""
    import jinja2

    checks, providers, cells = matrix(results)
    rows = [
        {
            "check": c,
            "cells": [
                {"text": text, "css": _CSS[text[:1]]} for text in (cell_text(cells.get((c, p))) for p in providers)
            ],
        }
        for c in checks
    ]
    groups = [
        {
            "name": r.recording.display,
            "profile": r.recording.profile,
            "counts": _counts(r.findings),
            "failures": r.failed,
            "findings": [
                {
                    "severity": f.severity.value,
                    "check": f.check,
                    "message": f.message,
                    "where": f.where(),
                    "expected": f.expected,
                    "received": f.received,
                    "note": f.note,
                    "reproduce": f.reproduce,
                }
                for f in r.findings
            ],
        }
        for r in _with_findings(results)
    ]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    return env.get_template("report.html.jinja").render(
        title=title,
        spec=spec,
        tally={"line": tally(results), "failed": sum(r.failed for r in results)},
        legend=LEGEND,
        checks=checks,
        providers=providers,
        rows=rows,
        skipped=skips(results),
        coverage=coverage.line() if coverage else "",
        groups=groups,
    )


#: the report options of the command line (argparse destinations) and each report's file suffix
REPORT_OPTIONS = (("junit_xml", "xml"), ("json_report", "json"), ("markdown", "md"), ("html", "html"))


def write_reports(results: Sequence[Result], spec: str, args: Any, coverage: Coverage | None = None) -> None:
    """Write the reports asked for on the command line (`args.command` names the run in their titles)."""
    title = f"respkit {getattr(args, 'command', None) or 'replay'}"
    renders: dict[str, Callable[[], str]] = {
        "junit_xml": lambda: to_junit(results, spec),
        "json_report": lambda: to_json(results, spec, coverage),
        "markdown": lambda: to_markdown(results, spec, title, coverage),
        "html": lambda: to_html(results, spec, title, coverage),
    }
    for attr, _ in REPORT_OPTIONS:
        target = getattr(args, attr, None)
        if target:
            write_atomic(Path(target), renders[attr]())
