"""What a check sees: the stream's state so far, the spec's validators and families, the profile."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from respkit.conformance.checks.families import Families
from respkit.conformance.findings import Finding, Severity, Source, contrast
from respkit.conformance.schema import SpecValidators

#: delta text kept verbatim per value; beyond it only a digest and a length are kept (bounded memory)
KEEP_TEXT = 1 << 20
#: output items kept for reconciliation; larger ones are kept as a digest
KEEP_ITEM = 1 << 16


class Accumulator:
    """Concatenated deltas of one value, verbatim up to KEEP_TEXT, then as a digest."""

    __slots__ = ("count", "digest", "done", "length", "parts")

    def __init__(self) -> None:
        self.parts: list[str] | None = []
        self.digest = hashlib.sha256()
        self.length = 0
        self.count = 0
        self.done = False

    def add(self, text: str) -> None:
        self.count += 1
        self.length += len(text)
        if self.parts is not None:
            self.parts.append(text)
            if self.length > KEEP_TEXT:
                self.digest.update("".join(self.parts).encode("utf-8", "surrogatepass"))
                self.parts = None
        else:
            self.digest.update(text.encode("utf-8", "surrogatepass"))

    def matches(self, value: str) -> bool:
        if self.parts is not None:
            return "".join(self.parts) == value
        return len(value) == self.length and hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest() == (
            self.digest.digest()
        )

    def text(self) -> str:
        return "".join(self.parts) if self.parts is not None else f"<{self.length} characters, digest kept>"


@dataclass
class Item:
    id: Any
    type: Any
    added_at: int
    done_at: int | None = None
    done_item: Any = None
    done_digest: str | None = None
    phase: str | None = None


@dataclass
class Options:
    """What the profile tells the engine (the rest of the profile only reclassifies findings)."""

    strict: bool = False
    extension_prefixes: tuple[str, ...] = ()
    done_sentinel: str = "forbidden"  # forbidden | allowed | required
    complete: bool = True  # False: the recording was cut by its source; end-of-stream checks are skipped


@dataclass
class StreamContext:
    validators: SpecValidators
    families: Families
    source: Source
    options: Options = field(default_factory=Options)
    content_type: str | None = None
    findings: list[Finding] = field(default_factory=list)
    check: str = ""
    frame_index: int = -1
    seq: int | None = None
    # state, updated by `observe` after the checks have seen an event
    events: int = 0
    first_type: str | None = None
    created_id: Any = None
    last_seq: int | None = None
    seq_seen: int = 0
    seq_missing: list[int] = field(default_factory=list)
    seq_missing_count: int = 0
    terminal_type: str | None = None
    terminal_at: int | None = None
    terminal_response: Any = None
    after_terminal: int = 0
    error_at: int | None = None
    error_resolved: bool = True
    done_sentinel: int = 0
    items: dict[int, Item] = field(default_factory=dict)
    item_index: dict[Any, int] = field(default_factory=dict)
    parts: dict[tuple[Any, ...], bool] = field(default_factory=dict)  # key -> done
    values: dict[tuple[Any, ...], Accumulator] = field(default_factory=dict)
    annotations: dict[tuple[Any, Any], int] = field(default_factory=dict)
    #: the annotations `annotation.added` streamed, by (output_index, content_index)
    added_annotations: dict[tuple[Any, Any], list[Any]] = field(default_factory=dict)

    def report(
        self,
        message: str,
        *,
        pointer: str = "",
        expected: Any = "",
        received: Any = "",
        basis: str = "failure",
        note: str = "",
        at_event: bool = True,
    ) -> None:
        where = (self.frame_index if self.frame_index >= 0 else None, self.seq) if at_event else (None, None)
        self.findings.append(
            make_finding(self.check, self.source, message, pointer, expected, received, basis, note, where)
        )


@dataclass
class BodyContext:
    validators: SpecValidators
    source: Source
    options: Options = field(default_factory=Options)
    content_type: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "response"  # response | error
    findings: list[Finding] = field(default_factory=list)
    check: str = ""

    def report(
        self,
        message: str,
        *,
        pointer: str = "",
        expected: Any = "",
        received: Any = "",
        basis: str = "failure",
        note: str = "",
    ) -> None:
        self.findings.append(make_finding(self.check, self.source, message, pointer, expected, received, basis, note))


#: the severity of a finding by its basis, before a profile looks at it
SEVERITY_OF_BASIS = {
    "failure": Severity.FAILURE,
    "erratum": Severity.DEVIATION,
    "drift": Severity.DRIFT,
    "undocumented": Severity.UNDOCUMENTED,
}


def make_finding(
    check: str,
    source: Source,
    message: str,
    pointer: str,
    expected: Any,
    received: Any,
    basis: str,
    note: str,
    where: tuple[int | None, int | None] = (None, None),
) -> Finding:
    """A finding of `check` in traffic from `source`; `basis` (failure, erratum, drift,
    undocumented) sets its severity;
    `where` is the (event index, sequence number) of the event it concerns."""
    severity = SEVERITY_OF_BASIS.get(basis, Severity.FAILURE)
    shown = contrast(expected, received)
    return Finding.build(
        {
            "check": check,
            "severity": severity,
            "message": message,
            "source": source.name,
            "operation": source.operation,
            "event_index": where[0],
            "sequence_number": where[1],
            "pointer": pointer,
            "expected": shown[0],
            "received": shown[1],
            "reproduce": source.reproduce,
            "note": note,
            "basis": basis,
        }
    )
