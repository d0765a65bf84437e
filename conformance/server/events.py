"""A response as the stream events OpenAI sends for it, numbered from 0 by `sequence_number`.

Events are built from the record's plan, so deltas always add up to the done values and the terminal
event carries the same Response object that a retrieve returns."""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator
from typing import Any

from respkit.conformance.server import modalities, tools_hosted
from respkit.conformance.server.items import Include, content_part, delta_logprobs, output_item, summary_part
from respkit.conformance.server.model import Part, cited_up_to
from respkit.conformance.server.record import Record

Event = dict[str, Any]
_TERMINAL = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}


def opening(record: Record, queued: bool) -> list[Event]:
    """`response.created` (and `response.queued` for background responses), before any work starts."""
    first = record.body("queued" if queued else "in_progress")
    events = [{"type": "response.created", "response": first}]
    if queued:
        events.append({"type": "response.queued", "response": first})
    return events


def in_progress(record: Record) -> Event:
    return {"type": "response.in_progress", "response": record.body("in_progress")}


def _text_events(part: Part, where: dict[str, Any], include: Include) -> Iterator[Event]:
    at = {**where, "content_index": 0}
    yield {"type": "response.content_part.added", **at, "part": content_part(part, done=False)}
    if part.kind == "refusal":
        for piece in part.pieces:
            yield {"type": "response.refusal.delta", **at, "delta": piece}
        yield {"type": "response.refusal.done", **at, "refusal": part.text}
    else:
        top = include.logprobs
        every: list[dict[str, Any]] = []
        written, cited = 0, 0
        for piece in part.pieces:
            logprobs = [] if top is None else delta_logprobs(piece, top)
            every += logprobs
            yield {"type": "response.output_text.delta", **at, "delta": piece, "logprobs": logprobs}
            written += len(piece)
            # an annotation follows the delta that completes the text it cites, as OpenAI sends it
            while cited < len(part.annotations) and cited_up_to(part.annotations[cited]) <= written:
                annotation = part.annotations[cited]
                yield {"type": "response.output_text.annotation.added", **at, "annotation_index": cited,
                       "annotation": annotation}  # fmt: skip
                cited += 1
        yield {"type": "response.output_text.done", **at, "text": part.text, "logprobs": every}
    yield {"type": "response.content_part.done", **at, "part": content_part(part, done=True, include=include)}


def _reasoning_events(part: Part, where: dict[str, Any], include: Include) -> Iterator[Event]:
    at = {**where, "summary_index": 0}
    yield {"type": "response.reasoning_summary_part.added", **at, "part": summary_part("")}
    for piece in part.pieces:
        yield {"type": "response.reasoning_summary_text.delta", **at, "delta": piece}
    yield {"type": "response.reasoning_summary_text.done", **at, "text": part.text}
    yield {"type": "response.reasoning_summary_part.done", **at, "part": summary_part(part.text)}


def _search_events(part: Part, where: dict[str, Any], include: Include) -> Iterator[Event]:
    for phase in ("in_progress", "searching", "completed"):
        yield {"type": f"response.{part.kind}.{phase}", **where}


def _custom_input_events(part: Part, where: dict[str, Any], include: Include) -> Iterator[Event]:
    for piece in part.pieces:
        yield {"type": "response.custom_tool_call_input.delta", **where, "delta": piece}
    yield {"type": "response.custom_tool_call_input.done", **where, "input": part.text}


def _argument_events(part: Part, where: dict[str, Any], include: Include) -> Iterator[Event]:
    for piece in part.pieces:
        yield {"type": "response.function_call_arguments.delta", **where, "delta": piece}
    yield {"type": "response.function_call_arguments.done", **where, "name": part.name, "arguments": part.text}


def _hosted_events(part: Part, where: dict[str, Any], include: Include) -> Iterator[Event]:
    """A hosted tool's events (conformance/server/tools_hosted.py), or raw reasoning's (modalities.py)."""
    return tools_hosted.events_of(part, where)


def item_events(record: Record, index: int) -> Iterator[Event]:
    """The events of output item `index`: added, its content's deltas and dones, then done."""
    part, (item_id, call_id) = record.plan.parts[index], record.ids[index]
    yield {
        "type": "response.output_item.added",
        "output_index": index,
        "item": output_item(part, item_id, call_id, done=False),
    }
    where = {"item_id": item_id, "output_index": index}
    inner = {
        "reasoning": _reasoning_events,
        "function_call": _argument_events,
        "web_search_call": _search_events,
        "file_search_call": _search_events,
        "custom_tool_call": _custom_input_events,
        **dict.fromkeys([*tools_hosted.EVENTS, "reasoning_text"], _hosted_events),
    }.get(part.kind, _text_events)
    yield from inner(part, where, record.include)
    yield {
        "type": "response.output_item.done",
        "output_index": index,
        "item": output_item(part, item_id, call_id, done=True, include=record.include),
    }


def closing(record: Record) -> list[Event]:
    """The terminal event (after an `error` event for a failed response); call after `record.finish()`."""
    body = record.body()
    events: list[Event] = []
    if record.status == "failed" and record.plan.error:
        events.append(error_event(record.plan.error))
    events.append({"type": _TERMINAL[record.status], "response": body})
    return events


def error_event(error: dict[str, str]) -> Event:
    """The `error` event in OpenAI's shape, its fields nested under `error` (openai/stream_error_event_then_failed.sse;
    the spec's flat shape is an erratum in spec/errata/openai-traffic.yaml): the official SDKs raise on an event
    with a top-level `error` member, so a client stops here as it does against OpenAI."""
    code = error["code"]
    return {"type": "error", "error": {"type": code, "code": code, "message": error["message"], "param": None}}


def body_events(record: Record) -> Iterator[Event]:
    if modalities.speaks(str(record.request.get("model", ""))):
        yield from modalities.audio_events(record.id, record.plan.parts)
    for index in range(len(record.plan.parts)):
        yield from item_events(record, index)


def all_events(record: Record) -> Iterator[Event]:
    """Every event of a finished record, in order, unnumbered (a foreground response or a replay)."""
    yield from opening(record, queued=record.background)
    yield in_progress(record)
    if record.status != "failed":
        yield from body_events(record)
    if record.status in _TERMINAL:
        yield from closing(record)


def numbered(events: Iterable[Event], start: int = 0) -> Iterator[Event]:
    """Give each event its `sequence_number`, from `start` up by one."""
    for number, event in enumerate(events, start):
        event["sequence_number"] = number
        yield event


#: On OpenAI's streams a delta event's `delta` and `obfuscation` hold 16 characters between them (756 of the
#: 757 padded delta events of the shared corpus's OpenAI recordings); the one longer delta got 3 characters.
OBFUSCATION_WIDTH, OBFUSCATION_LONG = 16, 3
_PAD = string.ascii_letters + string.digits


def obfuscated(event: Event) -> Event:
    """A delta event with its `obfuscation` padding (deterministic: taken from `sequence_number`)."""
    delta = event.get("delta")
    if not isinstance(delta, str) or not event["type"].endswith(".delta"):
        return event
    size = OBFUSCATION_WIDTH - len(delta) if len(delta) < OBFUSCATION_WIDTH else OBFUSCATION_LONG
    start = (event.get("sequence_number", 0) * 7) % (len(_PAD) - OBFUSCATION_WIDTH)
    return {**event, "obfuscation": _PAD[start : start + size]}
