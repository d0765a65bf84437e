"""The server's check of its own output against the published spec (used by its tests and benchmark), with
the errata its answers need as OpenAI's do (`SERVER_ERRATA`), and no other.

`frames()` reads a stream's bytes the simple way the server writes them (no multi-line data, no
retry fields); the conformance checks have their own, complete SSE parser."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
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


#: The errata (spec/errata/openai-traffic.yaml, by the spec node each one changes) that the server's answers
#: need, since it answers as OpenAI does where OpenAI and the published spec part ways: every optional
#: member present, `null` when not set (`usage` until a response ends, `user`), and the `error` event with
#: its fields nested under `error` (openai/background_queued.json, openai/stream_error_event_then_failed.sse).
SERVER_ERRATA = {"nullable_optional": "/components/schemas", "set": "/components/schemas/ResponseErrorEvent"}


@cache
def server_errata() -> frozenset[str]:
    """The `why` of each erratum of `SERVER_ERRATA`, as the schema checks report it."""
    from respkit.conformance.schema import default_validators

    entries = default_validators().bundle.get("x-respkit-errata", [])
    return frozenset(str(e.get("why")) for e in entries if SERVER_ERRATA.get(str(e.get("op"))) == e.get("target"))


def errata_needed(payload: Any, schema_name: str) -> set[str]:
    """The errata (their `why`) that explain why the published spec refuses `payload` (empty: it accepts it);
    an issue no erratum explains is given as its message."""
    from respkit.conformance.schema import default_validators

    issues = default_validators().check(schema_name, payload)
    return {issue.why if issue.basis != "failure" else f"{issue.pointer}: {issue.message}" for issue in issues}


def spec_error(payload: Any, schema_name: str) -> str | None:
    """Why `payload` is not valid against the bundle's schema `schema_name` (None: it is), the errata the
    server needs (`SERVER_ERRATA`) applied."""
    error = best_match(validator(schema_name).iter_errors(payload))
    if error is None or errata_needed(payload, schema_name) <= server_errata():
        return None
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    return f"{schema_name} at {where}: {error.message[:300]}"


def event_error(event: dict[str, Any]) -> str | None:
    """Why a stream event is not valid against the schema its `type` names (None: it is)."""
    name = EVENT_TYPES.get(str(event.get("type")))
    if name is None:
        return f"unknown event type {event.get('type')!r}"
    return spec_error(event, name)
