"""Quirk modes: the one place that lists how `respkit serve --quirks NAME` deviates from the spec.

Each mode changes only what its `changes` line says; everything else is the faithful default.
Provider modes reproduce deviations documented in the seed documents or recorded in the shared corpus;
the broken modes are defects a conformance suite must catch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from respkit.conformance.server.errors import ApiError
from respkit.conformance.server.events import Event

Events = AsyncIterator[Event]
SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"
TERMINAL_TYPES = ("response.completed", "response.incomplete", "response.failed")


async def _same(events: Events, model: str) -> Events:
    async for event in events:
        yield event


def _same_body(body: dict[str, Any]) -> dict[str, Any]:
    return body


def _envelope(error: ApiError) -> dict[str, Any]:
    return error.envelope()


@dataclass(frozen=True)
class Quirk:
    name: str
    changes: str
    seen_in: str
    event_lines: bool = True
    preamble: bytes = b""
    epilogue: bytes = b""
    stream_media_type: str = SSE_MEDIA_TYPE
    events: Callable[[Events, str], Events] = _same
    body: Callable[[dict[str, Any]], dict[str, Any]] = _same_body
    error: Callable[[ApiError], dict[str, Any]] = _envelope
    chat_completion: bool = False


# -- provider deviations ------------------------------------------------------------------------------

_ACEDATA_CODES = {401: "invalid_token", 404: "api_not_implemented", 429: "too_many_requests"}


async def _acedata_events(events: Events, model: str) -> Events:
    async for event in events:
        yield {**event, "model": model}


def _acedata_body(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "content_filters": None}


def _acedata_error(error: ApiError) -> dict[str, Any]:
    code = _ACEDATA_CODES.get(error.status, "api_error" if error.status >= 500 else "token_mismatched")
    return {"success": False, "error": {"code": code, "message": error.message}, "trace_id": str(uuid.uuid4())}


async def _no_sequence_numbers(events: Events, model: str) -> Events:
    async for event in events:
        yield {k: v for k, v in event.items() if k != "sequence_number"}


# -- broken modes -------------------------------------------------------------------------------------


async def _out_of_order(events: Events, model: str) -> Events:
    """The first `response.output_item.added` swaps places (and numbers) with the event after it."""
    held: Event | None = None
    swapped = False
    async for event in events:
        if held is not None:
            number = held.get("sequence_number")
            yield {**event, "sequence_number": number} if number is not None else event
            yield {**held, "sequence_number": event.get("sequence_number")}
            held, swapped = None, True
        elif not swapped and event["type"] == "response.output_item.added":
            held = event
        else:
            yield event
    if held is not None:
        yield held


async def _no_terminal(events: Events, model: str) -> Events:
    async for event in events:
        if event["type"] not in TERMINAL_TYPES:
            yield event


async def _repeated_sequence(events: Events, model: str) -> Events:
    """From the fourth event on, every `sequence_number` is one less: the third number appears twice."""
    index = 0
    async for event in events:
        yield {**event, "sequence_number": event["sequence_number"] - 1} if index >= 3 else event
        index += 1


async def _bad_deltas(events: Events, model: str) -> Events:
    """The first delta of the stream loses its last character; done values stay right."""
    spoiled = False
    async for event in events:
        if not spoiled and event["type"].endswith(".delta") and "delta" in event:
            event, spoiled = {**event, "delta": event["delta"][:-1]}, True
        yield event


def _bare_error(error: ApiError) -> dict[str, Any]:
    return {"message": error.message, "type": error.type, "param": error.param, "code": error.code}


QUIRKS: dict[str, Quirk] = {
    q.name: q
    for q in (
        Quirk(
            "acedata",
            "streams without `event:` lines; an extra `model` on every event; `content_filters: null` on every "
            'response; errors as {"success": false, "error": {"code", "message"}, "trace_id"} with AceData codes '
            "(invalid_token, too_many_requests, api_not_implemented, token_mismatched, api_error)",
            "seeds 000 and 002 (AceData documentation)",
            event_lines=False,
            events=_acedata_events,
            body=_acedata_body,
            error=_acedata_error,
        ),
        Quirk(
            "4allapi",
            "stream events without `sequence_number`",
            "seed 001 (4allapi documentation)",
            events=_no_sequence_numbers,
        ),
        Quirk(
            "openrouter",
            "streams without `event:` lines, a leading `: OPENROUTER PROCESSING` comment, a final `data: [DONE]`",
            "corpus openrouter/raw_reasoning_stream_gpt-oss-20b.sse",
            event_lines=False,
            preamble=b": OPENROUTER PROCESSING\n\n",
            epilogue=b"data: [DONE]\n\n",
        ),
        Quirk(
            "chat-completions",
            "POST /responses answers with a `chat.completion` object (JSON, also when `stream` is true)",
            "seed 002 (AceData's /openai/responses reference)",
            chat_completion=True,
        ),
        Quirk(
            "out-of-order",
            "the first `response.output_item.added` is sent after the event that follows it (numbers still increase)",
            "broken on purpose",
            events=_out_of_order,
        ),
        Quirk(
            "no-terminal",
            "streams end without their terminal event (`response.completed`, `.incomplete` or `.failed`)",
            "broken on purpose",
            events=_no_terminal,
        ),
        Quirk(
            "repeated-sequence",
            "from the fourth event on, `sequence_number` is one less, so one number appears twice",
            "broken on purpose",
            events=_repeated_sequence,
        ),
        Quirk(
            "bad-deltas",
            "the first delta of a stream loses its last character, so deltas no longer add up to the done value",
            "broken on purpose",
            events=_bad_deltas,
        ),
        Quirk(
            "wrong-content-type",
            "streams are served as `application/json` instead of `text/event-stream`",
            "broken on purpose",
            stream_media_type="application/json",
        ),
        Quirk(
            "bare-error",
            'error bodies are {"message", "type", "param", "code"} without the `error` envelope',
            "broken on purpose",
            error=_bare_error,
        ),
    )
}

FAITHFUL = Quirk("faithful", "none: every body and event as the published spec says", "the spec")


def get_quirk(name: str | None) -> Quirk:
    """The quirk mode called `name` (None: faithful); a ValueError naming the known modes otherwise."""
    if name is None:
        return FAITHFUL
    if name not in QUIRKS:
        raise ValueError(f"unknown quirk mode {name!r} (known: {', '.join(QUIRKS)})")
    return QUIRKS[name]


def describe() -> str:
    """The quirk modes and what each changes, one per line (`respkit serve --list-quirks`)."""
    width = max(len(n) for n in QUIRKS)
    return "\n".join(f"{q.name.ljust(width)}  {q.changes} [{q.seen_in}]" for q in QUIRKS.values())
