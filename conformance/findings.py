"""Findings: what a check reports, where it happened, and how bad it is."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """`failure` fails a run; `deviation` (a profile's known deviation, or an erratum), `drift` (a
    recording older than the spec) and `undocumented` (an event type the spec does not define) are
    reported but do not, except under the `strict` profile."""

    FAILURE = "failure"
    DEVIATION = "deviation"
    DRIFT = "drift"
    UNDOCUMENTED = "undocumented"


@dataclass(frozen=True)
class Source:
    """Where checked traffic came from: a recording's path, or a live operation with its curl line."""

    name: str
    operation: str = "createResponse"
    reproduce: str = ""

    @classmethod
    def recording(cls, path: str, operation: str = "createResponse") -> Source:
        return cls(name=path, operation=operation, reproduce=f"respkit replay {path}")

    @classmethod
    def live(
        cls,
        base_url: str,
        operation: str = "createResponse",
        method: str = "POST",
        path: str = "/responses",
        body: Any = None,
        key_env: str = "OPENAI_API_KEY",
    ) -> Source:
        """A live request; its curl line names the key's variable (`$VAR`), never the key."""
        if not key_env.replace("_", "").isalnum():
            raise ValueError(f"not an environment variable name: {key_env!r}")
        data = f" -d {shlex.quote(json.dumps(body))}" if body is not None else ""
        url = base_url.rstrip("/") + path
        curl = (
            f'curl -sS -X {method} {shlex.quote(url)} -H "Authorization: Bearer ${key_env}"'
            f" -H 'Content-Type: application/json'{data}"
        )
        return cls(name=f"{method} {url}", operation=operation, reproduce=curl)


def count(n: int, noun: str, plural: str = "") -> str:
    """`1 recording`, `2 recordings` (`plural` for a noun that does not take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str
    source: str = ""
    operation: str = ""
    event_index: int | None = None
    sequence_number: int | None = None
    pointer: str = ""
    expected: str = ""
    received: str = ""
    reproduce: str = ""
    note: str = ""
    #: the raw classification before a profile looked at it: failure, erratum, drift or undocumented
    basis: str = field(default="failure", compare=False)

    @property
    def fails(self) -> bool:
        return self.severity is Severity.FAILURE

    @classmethod
    def build(cls, values: dict[str, Any]) -> Finding:
        """A finding from a value for every field, without the frozen dataclass's per-field `__setattr__`
        (the hot path: a stream can report on every event)."""
        if values.keys() != _FIELDS:
            raise TypeError(f"Finding.build needs exactly the fields {sorted(_FIELDS)}")
        finding = object.__new__(cls)
        finding.__dict__.update(values)
        return finding

    def with_severity(self, severity: Severity, note: str) -> Finding:
        """A copy with another severity and note (a field-by-field copy: `dataclasses.replace` costs more)."""
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__, severity=severity, note=note)
        return copied

    def where(self) -> str:
        return self.place() + (f" at {self.pointer}" if self.pointer else "")

    def place(self) -> str:
        """Where it was seen, without the JSON Pointer: the source, and the event when there is one."""
        parts = [self.source or self.operation]
        if self.event_index is not None:
            seq = f", sequence_number {self.sequence_number}" if self.sequence_number is not None else ""
            parts.append(f"event #{self.event_index}{seq}")
        return " ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


_FIELDS = {f.name for f in fields(Finding)}


def cut(value: Any, limit: int = 300, lines: int = 4) -> str:
    """A value as a short string: JSON for structures, at most `lines` lines and `limit` characters."""
    if isinstance(value, str):
        if len(value) <= limit and value.isprintable():
            return value  # one short line (line breaks are not printable): nothing to cut
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(value)
    kept = text.splitlines()[:lines]
    short = "\n".join(kept)
    if len(short) > limit:
        short = short[: limit - 1] + "…"
    elif len(kept) < len(text.splitlines()):
        short += "\n…"
    return short


class Capped(list[Finding]):
    """The findings of one stream or body, at most `limit` per check: one broken recording must not fill
    memory, the console and every report. The rest are counted; `closed()` adds, per check that was cut,
    one finding saying how many (a copy of the first one cut, so a profile classifies it as that one)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.kept: dict[str, int] = {}
        self.cut: dict[str, tuple[Finding, int]] = {}

    def append(self, finding: Finding) -> None:
        kept = self.kept.get(finding.check, 0)
        if kept < self.limit:
            self.kept[finding.check] = kept + 1
            super().append(finding)
            return
        first, count = self.cut.get(finding.check, (finding, 0))
        self.cut[finding.check] = (first, count + 1)

    def closed(self) -> list[Finding]:
        """The findings kept, then one per check that was cut."""
        return [*self, *(self._told(first, count) for first, count in self.cut.values())]

    def _told(self, first: Finding, count: int) -> Finding:
        more = f"{count} more finding{'s' if count > 1 else ''} of this check"
        told = f"{more} cut here (--max-findings {self.limit} per check and stream); the first of them: "
        return Finding.build({**first.__dict__, "message": told + first.message})


def capped() -> Capped:
    """An empty `Capped` at the run's `--max-findings`."""
    from respkit.conformance.limits import current

    return Capped(current().max_findings)


def after_head(findings: list[Finding], head: int) -> list[Finding]:
    """The findings of a resumed stream that lie in it, not in the `head` frames it was read after."""
    return [f for f in findings if f.event_index is None or f.event_index >= head] if head else findings


#: characters shown before and after the first difference of two long strings
BEFORE, AFTER = 40, 120


def contrast(expected: Any, received: Any) -> tuple[str, str]:
    """(expected, received) as a finding shows them, always in that order: every finding's two values pass
    here, so no check states them the other way round. Each is cut short; two strings that differ and are
    too long to show whole are shown around the character where they first differ, which is said."""
    if _too_long(expected, received) and expected != received:
        at = first_difference(expected, received)
        return _around(expected, at), _around(received, at)
    return (cut(expected) if expected != "" else "", cut(received) if received != "" else "")


def _too_long(a: Any, b: Any) -> bool:
    """Two strings, one of which `cut` would shorten."""
    return isinstance(a, str) and isinstance(b, str) and (cut(a) != a or cut(b) != b)


def first_difference(a: str, b: str) -> int:
    """The offset of the first character where `a` and `b` differ (the shorter one's length if one starts
    the other)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _around(text: str, at: int) -> str:
    """The part of `text` around offset `at`, on one line (line breaks and quotes escaped), with the offset."""
    start = max(0, at - BEFORE)
    end = start + BEFORE + AFTER
    window = json.dumps(text[start:end], ensure_ascii=False)[1:-1]
    before, after = "…" if start else "", "…" if end < len(text) else ""
    return f"{before}{window}{after} (first difference at character {at} of {len(text)})"


@dataclass(frozen=True)
class Group:
    """One root cause: the findings of one check with the same severity, message (but for its numbers) and
    JSON Pointer, wherever they were seen (each event of each scenario or recording). A broken provider
    repeats one mistake in every stream; a person reads it once, with how often and where."""

    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def values_differ(self) -> bool:
        """The places saw different expected or received values (the first place's are shown)."""
        return len({(f.expected, f.received) for f in self.findings}) > 1

    def sources(self) -> dict[str, list[Finding]]:
        """The findings by scenario or recording, in the order first seen."""
        by: dict[str, list[Finding]] = {}
        for f in self.findings:
            by.setdefault(f.source or f.operation, []).append(f)
        return by

    def times(self) -> str:
        """`3 times in 2 recordings`: how often, and in how many scenarios or recordings."""
        sources = self.sources()
        live = all(s.startswith("live: ") for s in sources)
        noun = "scenario" if live else "recording" if not any(s.startswith("live: ") for s in sources) else "source"
        return f"{self.count} times in {len(sources)} {noun}{'s' if len(sources) > 1 else ''}"

    def places_text(self, shown: int = 3) -> str:
        """The first `shown` scenarios or recordings, each with its first `shown` events, then how many more."""
        sources = list(self.sources().items())
        parts = [source + _events(found, shown) for source, found in sources[:shown]]
        rest = len(sources) - shown
        return "; ".join(parts) + (f"; and {rest} more" if rest > 0 else "")

    def to_dict(self) -> dict[str, Any]:
        return {**self.first.to_dict(), "count": self.count, "places": [f.place() for f in self.findings]}


def _events(found: list[Finding], shown: int) -> str:
    """` event #3`, ` events #3, #5 and 4 more` (none without events)."""
    marks = [_mark(f) for f in found if f.event_index is not None]
    if not marks:
        return f" ({len(found)} times)" if len(found) > 1 else ""
    rest = len(marks) - shown
    listed = ", ".join(marks[:shown]) + (f" and {rest} more" if rest > 0 else "")
    return f" event{'s' if len(marks) > 1 else ''} {listed}"


def _mark(f: Finding) -> str:
    if f.sequence_number is None or f.sequence_number == f.event_index:
        return f"#{f.event_index}"
    return f"#{f.event_index} (sequence_number {f.sequence_number})"


#: a number in a message: messages that differ only in their numbers (how many events, which index) tell
#: one root cause
_NUMBER = re.compile(r"\d+")


def group(findings: Iterable[Finding]) -> list[Group]:
    """The findings as root causes, in the order each was first seen (the first one's message is shown)."""
    found: dict[tuple[str, Severity, str, str], list[Finding]] = {}
    for f in findings:
        found.setdefault((f.check, f.severity, _NUMBER.sub("#", f.message), f.pointer), []).append(f)
    return [Group(tuple(same)) for same in found.values()]
