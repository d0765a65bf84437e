"""The event-order state machine: one named rule per property of a well-formed stream."""

from __future__ import annotations

from typing import Any

from respkit.conformance.checks import check
from respkit.conformance.checks.context import StreamContext
from respkit.conformance.checks.families import Families
from respkit.conformance.findings import count


def _terminal(f: Families) -> frozenset[str]:
    return f.terminal


def _item_scoped(f: Families) -> frozenset[str]:
    return f.item_scoped - {f.item_added}


def _deltas(f: Families) -> frozenset[str]:
    return frozenset(t for t, fam in f.deltas.items() if t == fam.delta)


def _parted_deltas(f: Families) -> frozenset[str]:
    index = set(f.parts.values())
    return frozenset(t for t, fam in f.deltas.items() if t == fam.delta and index & set(fam.keys))


def resumed(ctx: StreamContext, event: dict[str, Any]) -> bool:
    """Whether the stream's first event shows a resumed stream: `GET /responses/{id}?stream=true&starting_after=N`
    replays a background response's events after N, so it opens past 0 (at `response.queued` after 0) with no
    `response.created`. Only a background response can be resumed, and its snapshot says it is one."""
    response = event.get("response")
    return (
        ctx.events == 0
        and ctx.seq is not None
        and ctx.seq > 0
        and isinstance(response, dict)
        and response.get("background") is True
    )


@check("opening")
def stream_starts_with_created(ctx: StreamContext, event: dict[str, Any]) -> None:
    """The first event is `response.created` (unless the stream resumes a background response)."""
    if ctx.events == 0 and event["type"] != ctx.families.created and not resumed(ctx, event):
        ctx.report(
            "the stream does not start with the creation event", expected=ctx.families.created, received=event["type"]
        )


@check("event", on=lambda f: frozenset({f.created}))
def stream_created_once(ctx: StreamContext, event: dict[str, Any]) -> None:
    """`response.created` appears once, first."""
    if ctx.events > 0 and event["type"] == ctx.families.created:
        ctx.report("a second creation event", received=event["type"])


@check("opening")
def stream_opens_in_progress(ctx: StreamContext, event: dict[str, Any]) -> None:
    """The second event is `response.in_progress` (or `response.queued` for background responses)."""
    if ctx.events == 1 and ctx.first_type == ctx.families.created and event["type"] not in ctx.families.opening:
        ctx.report(
            "the creation event is not followed by in_progress or queued",
            expected=sorted(ctx.families.opening),
            received=event["type"],
        )


@check("opening")
def stream_sequence_numbers_start_at_zero(ctx: StreamContext, event: dict[str, Any]) -> None:
    """The first event's `sequence_number` is 0 (unless the stream resumes a background response)."""
    if ctx.events == 0 and ctx.seq is not None and ctx.seq != 0 and not resumed(ctx, event):
        ctx.report("sequence numbers do not start at 0", pointer="/sequence_number", expected=0, received=ctx.seq)


@check("event")
def stream_sequence_numbers_increase(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Each `sequence_number` is the previous one plus one."""
    if ctx.seq is not None and ctx.last_seq is not None and ctx.seq != ctx.last_seq + 1:
        ctx.report(
            "sequence number does not follow the previous one",
            pointer="/sequence_number",
            expected=ctx.last_seq + 1,
            received=ctx.seq,
        )


@check("end")
def stream_sequence_number_present(ctx: StreamContext) -> None:
    """Every event has a `sequence_number` (a stream in which none has one predates the field: drift)."""
    if not ctx.seq_missing_count:
        return
    if not ctx.seq_seen:
        ctx.report(
            f"no event has a sequence_number ({ctx.seq_missing_count} events): recorded before the field existed",
            pointer="/sequence_number",
            basis="drift",
            at_event=False,
            note="Stream events gained `sequence_number` in 2025.",
        )
        return
    ctx.frame_index, ctx.seq = ctx.seq_missing[0], None
    ctx.report(
        f"sequence_number missing from {count(ctx.seq_missing_count, 'event')} while others have it "
        f"(events {ctx.seq_missing})",
        pointer="/sequence_number",
        expected="an integer",
        received="missing",
    )


@check("event", on=_item_scoped)
def stream_item_added_before_use(ctx: StreamContext, event: dict[str, Any]) -> None:
    """An event refers only to an output item announced by `output_item.added`."""
    index = event.get("output_index")
    if not isinstance(index, int):
        return
    item = ctx.items.get(index)
    if item is None:
        ctx.report(
            f"output_index {index} was not announced by output_item.added",
            pointer="/output_index",
            expected=f"an index announced so far ({', '.join(map(str, sorted(ctx.items)[:10])) or 'none yet'})",
            received=index,
        )
        return
    item_id = event.get("item_id")
    if item_id is not None and item.id != item_id:
        ctx.report(
            "item_id is not the id of the item at output_index", pointer="/item_id", expected=item.id, received=item_id
        )


@check("event", on=_item_scoped)
def stream_no_event_after_item_done(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Nothing refers to an output item after its `output_item.done`."""
    item = ctx.items.get(event.get("output_index"))  # type: ignore[arg-type]
    if item is not None and item.done_at is not None:
        ctx.report(
            f"event for output_index {event.get('output_index')} after its output_item.done (event #{item.done_at})",
            pointer="/output_index",
        )


@check("event", on=lambda f: frozenset({f.item_added}))
def stream_output_index_contiguous(ctx: StreamContext, event: dict[str, Any]) -> None:
    """`output_index` of announced items runs from 0 without gaps or repeats."""
    index = event.get("output_index")
    if index != len(ctx.items):
        ctx.report(
            "output items are not announced in order from 0",
            pointer="/output_index",
            expected=len(ctx.items),
            received=index,
        )


@check("event", on=lambda f: frozenset({f.item_done}))
def stream_item_done_once(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Each output item is done once, with the id it was announced with."""
    item = ctx.items.get(event.get("output_index"))  # type: ignore[arg-type]
    if item is None:
        return
    if item.done_at is not None:
        ctx.report(f"second output_item.done for output_index {event.get('output_index')}", pointer="/output_index")
    raw = event.get("item")
    if isinstance(raw, dict) and raw.get("id") != item.id:
        ctx.report(
            "the done item's id differs from the announced one",
            pointer="/item/id",
            expected=item.id,
            received=raw.get("id"),
        )


def _part_key(ctx: StreamContext, event: dict[str, Any], field: str) -> tuple[Any, ...]:
    return (event.get("output_index"), field, event.get(field))


@check("event", on=lambda f: f.part_added)
def stream_part_added_once(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A content or summary part is added once."""
    key = _part_key(ctx, event, ctx.families.parts[event["type"]])
    if key in ctx.parts:
        ctx.report(f"part {key[1]}={key[2]} of output_index {key[0]} added twice", pointer=f"/{key[1]}")


@check("event", on=_parted_deltas)
def stream_part_added_before_deltas(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A part is added (and not yet done) before the deltas that fill it."""
    fam = ctx.families.deltas[event["type"]]
    field = fam.part_field or ""
    state = ctx.parts.get(_part_key(ctx, event, field))
    if state is None and not _unparted(ctx, fam.prefix):
        ctx.report(
            f"delta for a part that was not added ({field}={event.get(field)})",
            pointer=f"/{field}",
            expected="a part.added event first",
        )
    elif state:
        ctx.report(f"delta for a part that is already done ({field}={event.get(field)})", pointer=f"/{field}")


def _unparted(ctx: StreamContext, prefix: str) -> bool:
    """Reasoning text deltas carry a content_index, but the spec defines no part event for them."""
    return prefix.endswith("reasoning_text")


@check("event", on=_deltas)
def stream_no_delta_after_done(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Deltas come before their `.done`."""
    fam = ctx.families.deltas[event["type"]]
    acc = ctx.values.get(fam.value_key(event))
    if acc is not None and acc.done:
        ctx.report(f"{event['type']} after {fam.done}", expected=f"no delta after {fam.done}")


@check("event", on=lambda f: f.part_done)
def stream_value_done_before_part_done(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A part's value is done (`output_text.done`, `refusal.done`, ...) before the part is done."""
    field = ctx.families.parts[event["type"]]
    key = _part_key(ctx, event, field)
    if key not in ctx.parts:
        ctx.report(f"part {field}={key[2]} is done but was never added", pointer=f"/{field}")
    part = event.get("part")
    ptype = part.get("type") if isinstance(part, dict) else None
    for fam in {f.prefix: f for f in ctx.families.deltas.values() if field in f.keys}.values():
        acc = ctx.values.get(fam.value_key(event))
        own = isinstance(ptype, str) and fam.prefix.endswith(ptype)
        if (acc is not None and not acc.done) or (own and fam.value and (acc is None or not acc.done)):
            ctx.report(f"part done before {fam.done}", expected=fam.done, received=event["type"])


@check("event", on=lambda f: frozenset({f.item_done}))
def stream_parts_done_before_item_done(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Every part and value of an item is done before `output_item.done`."""
    index = event.get("output_index")
    open_parts = [k for k, done in ctx.parts.items() if k[0] == index and not done]
    open_values = [k[0] for k, acc in ctx.values.items() if k[1:2] == (index,) and not acc.done]
    if open_parts or open_values:
        ctx.report(
            f"output item {index} done while parts {open_parts} or values {open_values} are open",
            expected="their .done events first",
        )


def _opened(f: Families) -> frozenset[str]:
    prefixes = {fam.prefix for fam in f.openers.values()}
    return frozenset(t for t, fam in f.deltas.items() if fam.prefix in prefixes)


@check("event", on=_opened)
def stream_value_added_before_deltas(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A value that an `X.added` event opens (a shell call's command) gets its deltas and done after it."""
    fam = ctx.families.deltas[event["type"]]
    if fam.value_key(event) not in ctx.values:
        ctx.report(f"{event['type']} before {fam.prefix}.added", expected=f"{fam.prefix}.added first")


def _values_and_phases(f: Families) -> frozenset[str]:
    return frozenset(f.deltas) | frozenset(f.phases)


@check("event", on=_values_and_phases)
def stream_call_ends_after_its_values(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A tool call completes (or fails) once the values it streams (code, arguments) are done, and none of
    them streams after that."""
    index = event.get("output_index")
    item = ctx.items.get(index)  # type: ignore[arg-type]
    if item is None:
        return
    if event["type"] in ctx.families.deltas:
        if item.phase in ("completed", "failed"):
            ctx.report(f"{event['type']} after the call was {item.phase}", received=event["type"])
        return
    phase = ctx.families.phases[event["type"]][1]
    still = [k[0] for k, acc in ctx.values.items() if k[1:2] == (index,) and not acc.done]
    if phase in ("completed", "failed") and still:
        ctx.report(f"the call is {phase} while {still} stream on", expected="their .done events first")


@check("event", on=_terminal)
def stream_response_values_done(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A value of the response itself, not of an output item (its audio, the audio's transcript), is done
    before the terminal event."""
    still = [k[0] for k, acc in ctx.values.items() if len(k) == 1 and not acc.done]
    if still:
        ctx.report(f"{event['type']} while {still} are not done", expected=[f"{p}.done" for p in still])


@check("event", on=lambda f: frozenset(f.phases))
def stream_tool_call_phases(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A tool call's events go in_progress, then its working phases, then completed or failed, once."""
    phase = ctx.families.phases[event["type"]][1]
    item = ctx.items.get(event.get("output_index"))  # type: ignore[arg-type]
    last = item.phase if item is not None else None
    if last is None and phase != "in_progress":
        ctx.report(f"{event['type']} before in_progress", expected="in_progress first", received=phase)
    elif last in ("completed", "failed"):
        ctx.report(f"{event['type']} after the call was {last}", received=phase)
    elif last == "in_progress" and phase == "in_progress":
        ctx.report(
            f"{event['type']} repeated",
            received=phase,
            basis="erratum",
            note="OpenAI repeats a call's in_progress event while it is in progress (an MCP call after its "
            "approval: openai/mcp_call_after_approval_stream.sse); the phase does not go back.",
        )
    elif last is not None and phase == "in_progress":
        ctx.report(f"{event['type']} repeated after {last}", received=phase)


@check("event", on=lambda f: frozenset({f.annotation}))
def stream_annotation_index_increases(ctx: StreamContext, event: dict[str, Any]) -> None:
    """`annotation_index` of a text part runs from 0, one by one."""
    expected = ctx.annotations.get((event.get("output_index"), event.get("content_index")), 0)
    if event.get("annotation_index") != expected:
        ctx.report(
            "annotation_index out of order",
            pointer="/annotation_index",
            expected=expected,
            received=event.get("annotation_index"),
        )


@check("event", on=_terminal)
def stream_single_terminal(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Exactly one terminal event (completed, incomplete or failed)."""
    if ctx.terminal_type is not None:
        ctx.report(
            f"a second terminal event after {ctx.terminal_type} (event #{ctx.terminal_at})", received=event["type"]
        )


@check("after_terminal")
def stream_nothing_after_terminal(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Nothing follows the terminal event."""
    if ctx.terminal_type is not None and event["type"] not in ctx.families.terminal:
        ctx.report(f"{event['type']} after the terminal {ctx.terminal_type}", received=event["type"])


@check("after_error")
def stream_error_followed_by_failed(ctx: StreamContext, event: dict[str, Any]) -> None:
    """An `error` event is followed by `response.failed`."""
    if not ctx.error_resolved and not event["type"].endswith(".failed"):
        ctx.report(
            f"{event['type']} after an error event, instead of response.failed",
            expected="response.failed",
            received=event["type"],
        )
        ctx.error_resolved = True


@check("end")
def stream_ends_with_terminal(ctx: StreamContext) -> None:
    """The stream ends with a terminal event."""
    if ctx.terminal_type is None and ctx.options.complete:
        ctx.report(
            "the stream ends without completed, incomplete or failed",
            expected=sorted(ctx.families.terminal),
            received=f"{ctx.events} events, none terminal",
            at_event=False,
        )
    if not ctx.error_resolved and ctx.options.complete:
        ctx.check = "stream_error_followed_by_failed"
        ctx.report("an error event, and no response.failed after it", expected="response.failed", at_event=False)


#: item types whose `.completed` event OpenAI lets stand for their `output_item.done` (evidence in the note)
CLOSED_BY_COMPLETED = frozenset({"mcp_list_tools"})


@check("end")
def stream_items_closed(ctx: StreamContext) -> None:
    """Every announced output item is done before a completed or incomplete response."""
    if ctx.terminal_type is None or ctx.terminal_type.endswith(".failed"):
        return
    open_items = [i for i, item in ctx.items.items() if item.done_at is None]
    excused = [i for i in open_items if ctx.items[i].type in CLOSED_BY_COMPLETED and ctx.items[i].phase == "completed"]
    if len(excused) < len(open_items):
        ctx.report(f"output items {open_items} never done", expected="output_item.done for each", at_event=False)
    elif excused:
        ctx.report(
            f"output items {excused} never done, closed by their completed event",
            expected="output_item.done for each",
            at_event=False,
            basis="erratum",
            note="OpenAI sends output_item.done for only the last of several MCP tool listings that run at "
            "once; the others end with mcp_list_tools.completed (openai/mcp_list_tools_three_servers_stream.sse).",
        )
