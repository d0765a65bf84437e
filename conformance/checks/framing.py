"""Stream framing: content type, UTF-8, `event:` lines, `[DONE]`, JSON payloads."""

from __future__ import annotations

from typing import Any

from respkit.conformance.checks import check
from respkit.conformance.checks.context import StreamContext
from respkit.conformance.sse import Frame

DONE = "[DONE]"


def clean(frame: Frame, event: dict[str, Any] | None) -> bool:
    """A frame on which every frame check is silent: a terminated UTF-8 JSON event whose `event:` line,
    written before its `data:`, names its type. The engine skips the frame checks on clean frames."""
    return (
        event is not None
        and frame.event == event["type"]
        and frame.terminated
        and not frame.data_before_event
        and frame.bad_utf8_offset is None
    )


@check("start")
def sse_content_type(ctx: StreamContext) -> None:
    """A stream is served as `text/event-stream`."""
    media = (ctx.content_type or "").split(";", 1)[0].strip().lower()
    if ctx.content_type is not None and media != "text/event-stream":
        ctx.report("stream not served as text/event-stream", expected="text/event-stream", received=ctx.content_type)


@check("frame")
def sse_utf8(ctx: StreamContext, frame: Frame, event: dict[str, Any] | None) -> None:
    """Every byte of the stream is UTF-8."""
    if frame.bad_utf8_offset is not None:
        ctx.report(f"bytes that are not UTF-8 at offset {frame.bad_utf8_offset}", expected="UTF-8")


@check("frame")
def sse_event_terminated(ctx: StreamContext, frame: Frame, event: dict[str, Any] | None) -> None:
    """Every event ends with a blank line (a WHATWG reader drops the last event otherwise)."""
    if not frame.terminated:
        ctx.report("the stream ends inside an event (no blank line after it)", expected="a blank line")


@check("frame")
def sse_data_is_json(ctx: StreamContext, frame: Frame, event: dict[str, Any] | None) -> None:
    """Each `data:` payload is a JSON object with a string `type`."""
    if frame.data == DONE or event is not None:
        return
    ctx.report("data is not a JSON object with a string `type`", expected="a JSON event", received=frame.data)


@check("frame")
def sse_event_line_present(ctx: StreamContext, frame: Frame, event: dict[str, Any] | None) -> None:
    """Each event has an `event:` line naming its type."""
    if frame.event is None and frame.data != DONE:
        ctx.report("no `event:` line", expected=f"event: {event.get('type') if event else '<type>'}", received="none")


@check("frame")
def sse_event_matches_type(ctx: StreamContext, frame: Frame, event: dict[str, Any] | None) -> None:
    """The `event:` line equals the data's `type`."""
    if frame.event is not None and event is not None and frame.event != event.get("type"):
        ctx.report(
            "`event:` differs from the data's type", pointer="/type", expected=event.get("type"), received=frame.event
        )


@check("frame")
def sse_event_line_before_data(ctx: StreamContext, frame: Frame, event: dict[str, Any] | None) -> None:
    """The `event:` line comes before the `data:` line."""
    if frame.data_before_event:
        ctx.report("`data:` comes before `event:`", expected="event: then data:", received="data: then event:")


@check("frame")
def sse_done_sentinel(ctx: StreamContext, frame: Frame, event: dict[str, Any] | None) -> None:
    """No `data: [DONE]` sentinel (the Responses API defines none), unless the profile says the provider sends one."""
    if frame.data == DONE:
        ctx.done_sentinel += 1
        if ctx.options.done_sentinel != "required":
            ctx.report(
                "a `[DONE]` sentinel, which the Responses API does not define", expected="no sentinel", received=DONE
            )


@check("end")
def sse_done_sentinel_present(ctx: StreamContext) -> None:
    """Where the profile expects a `[DONE]` sentinel, it ends the stream."""
    if ctx.options.done_sentinel == "required" and not ctx.done_sentinel and ctx.options.complete:
        ctx.report("no `[DONE]` sentinel, which this provider sends", expected=DONE, received="none", at_event=False)
