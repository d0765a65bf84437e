"""Build streams for the check tests from corpus recordings: parse, edit events, serialize back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from respkit.conformance.engine import check_error, check_json_body, check_stream
from respkit.conformance.findings import Finding, Source
from respkit.conformance.profiles import Profile
from tests.paths import CORPUS


@dataclass
class Event:
    data: dict[str, Any] | str
    name: str | None = None
    data_first: bool = False

    @property
    def type(self) -> str:
        return self.data["type"] if isinstance(self.data, dict) else ""


@dataclass
class Stream:
    events: list[Event] = field(default_factory=list)
    content_type: str = "text/event-stream"
    trailer: bytes = b""

    @classmethod
    def load(cls, name: str) -> Stream:
        out = cls()
        for block in (CORPUS / name).read_text(encoding="utf-8").split("\n\n"):
            lines = [ln for ln in block.split("\n") if ln and not ln.startswith(":")]
            if not lines:
                continue
            name_ = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), None)
            raw = next(ln[5:].strip() for ln in lines if ln.startswith("data:"))
            data: dict[str, Any] | str = raw if raw == "[DONE]" else json.loads(raw)
            first = lines[0].startswith("data:") and name_ is not None
            out.events.append(Event(data, name_, first))
        return out

    def index(self, etype: str, nth: int = 0) -> int:
        return [i for i, e in enumerate(self.events) if e.type == etype][nth]

    def first(self, etype: str) -> dict[str, Any]:
        data = self.events[self.index(etype)].data
        assert isinstance(data, dict)
        return data

    def body(self) -> bytes:
        parts = []
        for e in self.events:
            data = e.data if isinstance(e.data, str) else json.dumps(e.data)
            lines = [f"data: {data}"]
            if e.name is not None:
                lines.insert(len(lines) if e.data_first else 0, f"event: {e.name}")
            parts.append("\n".join(lines) + "\n\n")
        return "".join(parts).encode("utf-8") + self.trailer

    def findings(self, profile: Profile | str = "openai", chunk: int = 0) -> list[Finding]:
        body = self.body()
        chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
        return check_stream(chunks, content_type=self.content_type, profile=profile, source=Source("test"))


def failures(found: list[Finding]) -> set[str]:
    return {f.check for f in found if f.fails}


def body_findings(name: str, edit: Callable[[Any], Any] | None = None, **kw: Any) -> list[Finding]:
    raw = (CORPUS / name).read_bytes()
    body = json.dumps(edit(json.loads(raw))).encode() if edit else raw
    return check_json_body(body, profile=kw.pop("profile", "openai"), source=Source("test"), **kw)


def error_findings(name: str, status: int | None, edit: Callable[[Any], Any] | None = None, **kw: Any) -> list[Finding]:
    raw = (CORPUS / name).read_bytes()
    body = json.dumps(edit(json.loads(raw))).encode() if edit else raw
    headers = kw.pop("headers", None)
    return check_error(status, headers, body, profile=kw.pop("profile", "openai"), source=Source("test"), **kw)


def corpus(name: str) -> Path:
    return CORPUS / name
