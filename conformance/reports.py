"""Reports of a replay or live run: JSON, JUnit XML, Markdown (whole, or a summary that fits a pull request
comment) and HTML, each with the run's context and each written atomically. A root cause seen in many places
is one finding with its count and places (`findings.group`)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree as ET

from respkit.conformance.findings import Finding, Group, Severity, group
from respkit.conformance.findings import count as count  # re-exported: the reports and consoles say plurals alike
from respkit.conformance.redaction import redact
from respkit.conformance.replay import Result, display

TEMPLATES = Path(__file__).parent / "templates"
#: report files are readable by the group and others (a CI job's artifact uploader may run as another user)
REPORT_MODE = 0o644


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it into place, mode 0644; secrets redacted
    (every report is written here). A reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, REPORT_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(redact(text))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def seconds_of(result: Result) -> float:
    """How long a scenario or recording took (0 when the run did not time it)."""
    return result.seconds


# -- context -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a report is of: the target (its URL without credentials), profiles, versions, when and how long."""

    title: str
    target: str
    profiles: tuple[str, ...]
    respkit: str
    spec: str
    started: str  # ISO 8601, UTC
    seconds: float
    #: a live run's wait on 429 answers (`waited 3.0 s over 2 answers (429)`); empty: none
    rate_limited: str = ""

    def rows(self) -> list[tuple[str, str]]:
        shown = ", ".join(self.profiles[:5]) + (f" and {len(self.profiles) - 5} more" if len(self.profiles) > 5 else "")
        return [
            ("target", self.target),
            ("profile" if len(self.profiles) == 1 else "profiles", shown or "none"),
            ("respkit", self.respkit),
            ("spec", self.spec),
            ("date", self.started),
            ("duration", f"{self.seconds:.1f} s"),
            *([("rate limited", self.rate_limited)] if self.rate_limited else []),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "profiles": list(self.profiles),
            "respkit": self.respkit,
            "spec": self.spec,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            **({"rate_limited": self.rate_limited} if self.rate_limited else {}),
        }


def respkit_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("respkit")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


SECRET_PARAMS = ("key", "token", "secret", "sig", "password", "auth")


def public_url(url: str) -> str:
    """`url` without what may be a credential: no user or password, and query values whose name says key,
    token, secret, signature, password or auth replaced by `***`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    query = [(k, "***" if any(s in k.lower() for s in SECRET_PARAMS) else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), ""))


def target_of(args: Any) -> str:
    """The target as a report names it: the provider's URL, the embedded server, or the recordings read."""
    if getattr(args, "base_url", None):
        return public_url(args.base_url)
    if getattr(args, "command", None) == "check":
        return "respkit's embedded reference server, and the bundled recordings"
    paths = getattr(args, "paths", None)
    return "recordings: " + (", ".join(paths) if paths else "the bundled recordings")


def context_of(results: Sequence[Result], spec: str, args: Any, title: str) -> Context:
    """The run's context from its command line (`args.started`: its start, set by the command line)."""
    started: datetime = getattr(args, "started", None) or datetime.now(UTC)
    return Context(
        title=title,
        target=target_of(args),
        profiles=tuple(sorted({r.recording.profile for r in results})),
        respkit=respkit_version(),
        spec=spec,
        started=started.isoformat(timespec="seconds"),
        seconds=(datetime.now(UTC) - started).total_seconds(),
        rate_limited=getattr(args, "rate_limited", ""),
    )


# -- counts ----------------------------------------------------------------------------------------------


def summary(results: Sequence[Result]) -> dict[str, Any]:
    """Live scenarios and recordings counted apart; findings by severity, and root causes by severity."""
    live = [r for r in results if r.recording.live]
    recorded = [r for r in results if not r.recording.live]
    counts = {s.value: 0 for s in Severity}
    for r in results:
        for f in r.findings:
            counts[f.severity.value] += 1
    causes = {s.value: 0 for s in Severity}
    for g in root_causes(results):
        causes[g.first.severity.value] += 1
    return {
        "live_scenarios": len(live),
        "failed_live_scenarios": sum(r.failed for r in live),
        "skipped_live_scenarios": sum(bool(r.recording.skipped) for r in live),
        "recordings": len(recorded),
        "failed_recordings": sum(r.failed for r in recorded),
        **counts,
        "root_causes": causes,
    }


SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


def root_causes(results: Iterable[Result]) -> list[Group]:
    """Every finding of the run as root causes, failures first (each severity in the order first seen)."""
    groups = group(f for r in results for f in r.findings)
    return sorted(groups, key=lambda g: SEVERITY_ORDER[g.first.severity])


def tally(results: Sequence[Result]) -> str:
    """One line: what was checked (live scenarios, recordings or both), how many failed, root causes by
    severity (with the findings they stand for when there are more)."""
    live = sum(r.recording.live for r in results)
    recorded = len(results) - live
    skipped = len(skips(results))
    parts = [count(live, "live scenario") + (f" ({skipped} skipped)" if skipped else "")] if live else []
    if recorded or not live:
        parts.append(count(recorded, "recording"))
    failed = sum(r.failed for r in results)
    return f"{' and '.join(parts)}: {failed} failed; " + ", ".join(_severity_counts(results))


def _severity_counts(results: Sequence[Result]) -> list[str]:
    s = summary(results)
    nouns = {"failure": ("failure", ""), "deviation": ("deviation", ""), "drift": ("drift", "drift")}
    nouns["undocumented"] = ("undocumented event type", "")
    out = []
    for sev, (noun, plural) in nouns.items():
        causes, found = s["root_causes"][sev], s[sev]
        if found or sev != "undocumented":
            more = f" ({count(found, 'finding')})" if found != causes else ""
            out.append(count(causes, noun, plural) + more)
    return out


def skips(results: Sequence[Result]) -> list[str]:
    """`name: why` for each live scenario that could not do what it is for."""
    return [
        f"{r.recording.display.removeprefix('live: ')}: {r.recording.skipped}" for r in results if r.recording.skipped
    ]


# -- one finding as text -----------------------------------------------------------------------------


def describe(item: Group | Finding, places: int = 3) -> str:
    """A root cause as lines of text: what, where (the first `places` places, then how many more), expected
    and received, and how to reproduce it."""
    g = item if isinstance(item, Group) else Group((item,))
    f = g.first
    times = f" ({g.times()})" if g.count > 1 else ""
    lines = [f"[{f.severity.value}] {f.check}: {f.message}{times}", f"  where: {_where(g, places)}"]
    first = " (at the first place)" if g.values_differ else ""
    lines += [f"  expected{first}: {f.expected}"] if f.expected else []
    lines += [f"  received{first}: {f.received}"] if f.received else []
    lines += [f"  note: {f.note}"] if f.note else []
    lines += [f"  reproduce{' (the first place)' if g.count > 1 else ''}: {f.reproduce}"] if f.reproduce else []
    return "\n".join(lines)


def _where(g: Group, places: int) -> str:
    if g.count == 1:
        return g.first.where()
    return (f"at {g.first.pointer} in " if g.first.pointer else "") + g.places_text(places)


def one_line(g: Group, limit: int = 400) -> str:
    """A root cause in one line (a JUnit failure's `message`): check, message, expected and received."""
    f = g.first
    text = f"{f.check}: {f.message}" + (f" ({g.times()})" if g.count > 1 else "")
    if f.expected or f.received:
        text += f"; expected {f.expected or '(nothing said)'}, received {f.received or '(nothing said)'}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- JSON ------------------------------------------------------------------------------------------------


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
            f"coverage: {len(self.answered)} of {count(len(self.operations), 'operation')} answered 2xx; "
            f"{len(self.seen)} of {count(self.event_types, 'stream event type')} seen"
            + (f" (no 2xx from: {', '.join(missing)})" if missing else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "operations": list(self.operations),
            "answered": list(self.answered),
            "event_types": self.event_types,
            "seen": list(self.seen),
        }


def to_json(
    results: Sequence[Result], spec: str, coverage: Coverage | None = None, context: Context | None = None
) -> str:
    """`findings`: the root causes, each with its count and every place; `recordings`: each scenario or
    recording with the findings seen in it."""
    data: dict[str, Any] = {
        **({"context": context.to_dict()} if context else {}),
        "spec": spec,
        "summary": summary(results),
        **({"coverage": coverage.to_dict()} if coverage else {}),
        "findings": [g.to_dict() for g in root_causes(results)],
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
        "seconds": round(seconds_of(result), 3),
    }
    if rec.skipped:
        entry["skipped"] = rec.skipped
    if rec.resumes:
        entry["resumes"] = [display(rec.resumes[0]), rec.resumes[1]]
    entry["findings"] = [f.to_dict() for f in result.findings]
    return entry


# -- JUnit -----------------------------------------------------------------------------------------------


def to_junit(results: Sequence[Result], spec: str, context: Context | None = None) -> str:
    """One test suite per provider, one test case per scenario or recording (its `time` in seconds); a
    failure's message names the first root cause with expected and received, its text all of them."""
    by_provider: dict[str, list[Result]] = {}
    for r in results:
        by_provider.setdefault(r.recording.provider, []).append(r)
    suites = ET.Element(
        "testsuites",
        name=f"respkit ({spec})",
        tests=str(len(results)),
        failures=str(sum(r.failed for r in results)),
        time=f"{context.seconds if context else sum(map(seconds_of, results)):.3f}",
    )
    for provider, rs in sorted(by_provider.items()):
        _suite(suites, provider, rs, context)
    return ET.tostring(suites, encoding="unicode") + "\n"


def _suite(parent: ET.Element, provider: str, rs: list[Result], context: Context | None) -> None:
    suite = ET.SubElement(
        parent,
        "testsuite",
        name=provider,
        tests=str(len(rs)),
        failures=str(sum(r.failed for r in rs)),
        skipped=str(sum(bool(r.recording.skipped) and not r.failed for r in rs)),
        time=f"{sum(map(seconds_of, rs)):.3f}",
    )
    if context:
        suite.set("timestamp", context.started)
        properties = ET.SubElement(suite, "properties")
        for name, value in context.rows():
            ET.SubElement(properties, "property", name=name, value=value)
    for r in rs:
        _case(suite, provider, r)


def _case(suite: ET.Element, provider: str, r: Result) -> None:
    case = ET.SubElement(suite, "testcase", classname=provider, name=r.recording.display, time=f"{seconds_of(r):.3f}")
    failures = group(f for f in r.findings if f.fails)
    if failures:
        message = f"{count(len(failures), 'failure')}: {one_line(failures[0])}"
        ET.SubElement(case, "failure", message=message).text = "\n\n".join(map(describe, failures))
    if r.recording.skipped and not failures:
        ET.SubElement(case, "skipped", message=r.recording.skipped)
    others = group(f for f in r.findings if not f.fails)
    if others:
        ET.SubElement(case, "system-out").text = "\n\n".join(map(describe, others))


# -- the check-by-provider matrix ------------------------------------------------------------------------


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


# -- Markdown and HTML ---------------------------------------------------------------------------------


def to_markdown(
    results: Sequence[Result],
    spec: str,
    title: str = "respkit replay",
    coverage: Coverage | None = None,
    context: Context | None = None,
    limit: int | None = None,
    full_report: str = "",
) -> str:
    """The Markdown report (`respkit.conformance.markdown`); with `limit`, cut to fewer characters than that."""
    from respkit.conformance.markdown import render

    return render(results, spec, title, coverage, context, limit, full_report)


_CSS = {"F": "F", "D": "D", "~": "drift", "U": "undocumented", "o": "ok"}


def to_html(
    results: Sequence[Result],
    spec: str,
    title: str = "respkit replay",
    coverage: Coverage | None = None,
    context: Context | None = None,
) -> str:
    """A self-contained page (no scripts, no external files): verdict, context, failures, then the rest folded."""
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
    causes = root_causes(results)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    return env.get_template("report.html.jinja").render(
        title=title,
        spec=spec,
        tally={"line": tally(results), "failed": sum(r.failed for r in results)},
        context=context.rows() if context else [],
        legend=LEGEND,
        checks=checks,
        providers=providers,
        rows=rows,
        skipped=skips(results),
        coverage=coverage.line() if coverage else "",
        failures=[_html_group(g) for g in causes if g.first.fails],
        others=[_html_group(g) for g in causes if not g.first.fails],
        durations=durations(results),
    )


#: places an HTML finding lists before it says how many more
HTML_PLACES = 20


def _html_group(g: Group) -> dict[str, Any]:
    f = g.first
    return {
        "severity": f.severity.value,
        "check": f.check,
        "message": f.message,
        "count": g.count,
        "times": g.times(),
        "where": f.where() if g.count == 1 else _where(g, HTML_PLACES),
        "values_differ": g.values_differ,
        "expected": f.expected,
        "received": f.received,
        "note": f.note,
        "reproduce": f.reproduce,
    }


def durations(results: Sequence[Result], shown: int = 10) -> list[tuple[str, str]]:
    """The slowest scenarios and recordings, with their seconds (none when the run did not time them)."""
    timed = sorted((r for r in results if seconds_of(r) > 0), key=seconds_of, reverse=True)
    return [(r.recording.display, f"{seconds_of(r):.2f} s") for r in timed[:shown]]


# -- writing ---------------------------------------------------------------------------------------------

#: the reports `respkit check` writes into `--reports-dir` when no report option is given (argparse
#: destinations, and each one's file suffix)
DEFAULT_REPORTS = (("junit_xml", "xml"), ("json_report", "json"), ("markdown", "md"), ("html", "html"))
#: every report option of the command line
REPORT_OPTIONS = (*DEFAULT_REPORTS, ("markdown_summary", "summary.md"))
#: GitHub's limit on a pull request comment, in characters; a `--markdown-summary` stays below it
COMMENT_LIMIT = 65_536


def write_reports(results: Sequence[Result], spec: str, args: Any, coverage: Coverage | None = None) -> None:
    """Write the reports asked for on the command line (`args.command` names the run in their titles)."""
    title = f"respkit {getattr(args, 'command', None) or 'replay'}"
    context = context_of(results, spec, args, title)
    renders: dict[str, Callable[[], str]] = {
        "junit_xml": lambda: to_junit(results, spec, context),
        "json_report": lambda: to_json(results, spec, coverage, context),
        "markdown": lambda: to_markdown(results, spec, title, coverage, context),
        "html": lambda: to_html(results, spec, title, coverage, context),
        "markdown_summary": lambda: to_markdown(
            results, spec, title, coverage, context, COMMENT_LIMIT, full_report(args)
        ),
    }
    for attr, _ in REPORT_OPTIONS:
        target = getattr(args, attr, None)
        if target:
            write_atomic(Path(target), renders[attr]())


def full_report(args: Any) -> str:
    """Where the whole report is, for a summary that had to be cut."""
    written = [getattr(args, a, None) for a in ("markdown", "html", "json_report", "junit_xml")]
    return next((w for w in written if w), "")
