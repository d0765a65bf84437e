"""Findings: what a check reports, where it happened, and how bad it is."""

from __future__ import annotations

import json
import shlex
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
        parts = [self.source or self.operation]
        if self.event_index is not None:
            seq = f", sequence_number {self.sequence_number}" if self.sequence_number is not None else ""
            parts.append(f"event #{self.event_index}{seq}")
        if self.pointer:
            parts.append(f"at {self.pointer}")
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
