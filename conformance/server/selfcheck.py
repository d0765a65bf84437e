"""The server's check of its own output against the published spec (used by its tests and benchmark).

`frames()` reads a stream's bytes the simple way the server writes them (no multi-line data, no
retry fields); the conformance checks have their own, complete SSE parser."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import best_match
from respkit.conformance.server.bundle import validator
from respkit.generated.events import EVENT_TYPES


@dataclass(frozen=True)
class Frame:
    event: str | None
    data: str
    comments: tuple[str, ...] = ()

    def json(self) -> Any:
        return json.loads(self.data)


def frames(text: str) -> list[Frame]:
    out: list[Frame] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data, comments = None, [], []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "":
                comments.append(value)
        out.append(Frame(event, "\n".join(data), tuple(comments)))
    return out


def spec_error(payload: Any, schema_name: str) -> str | None:
    """Why `payload` is not valid against the bundle's schema `schema_name` (None: it is)."""
    error = best_match(validator(schema_name).iter_errors(payload))
    if error is None:
        return None
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    return f"{schema_name} at {where}: {error.message[:300]}"


def event_error(event: dict[str, Any]) -> str | None:
    """Why a stream event is not valid against the schema its `type` names (None: it is)."""
    name = EVENT_TYPES.get(str(event.get("type")))
    if name is None:
        return f"unknown event type {event.get('type')!r}"
    return spec_error(event, name)
