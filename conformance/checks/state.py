"""How a stream's state follows its events; run by the engine after the checks have seen each event."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from respkit.conformance.checks.context import KEEP_ITEM, Accumulator, Item, StreamContext
from respkit.conformance.checks.families import DeltaFamily


def observe(ctx: StreamContext, event: dict[str, Any], size: int) -> None:
    fam = ctx.families
    etype = event.get("type")
    if ctx.events == 0:
        ctx.first_type = etype if isinstance(etype, str) else None
    ctx.events += 1
    _sequence(ctx)
    if ctx.terminal_type is not None:
        ctx.after_terminal += 1
    delta = fam.deltas.get(etype) if isinstance(etype, str) else None
    if delta is not None:
        _value(ctx, event, delta, etype == delta.done)
    elif etype in fam.lifecycle:
        _lifecycle(ctx, event, etype)
    elif etype == fam.error:
        ctx.error_at, ctx.error_resolved = ctx.frame_index, False
    elif etype == fam.item_added or etype == fam.item_done:
        _item(ctx, event, etype == fam.item_done, size)
    elif etype in fam.parts:
        key = (event.get("output_index"), fam.parts[etype], event.get(fam.parts[etype]))
        ctx.parts[key] = etype in fam.part_done
    elif etype in fam.openers:
        ctx.values.setdefault(fam.openers[etype].value_key(event), Accumulator())
    elif etype == fam.annotation:
        k = (event.get("output_index"), event.get("content_index"))
        ctx.annotations[k] = ctx.annotations.get(k, 0) + 1
        ctx.added_annotations.setdefault(k, []).append(event.get("annotation"))
    if etype in fam.phases:
        item = ctx.items.get(event.get("output_index"))  # type: ignore[arg-type]
        if item is not None:
            item.phase = fam.phases[etype][1]


def _sequence(ctx: StreamContext) -> None:
    """`ctx.seq` is the event's sequence_number when it is an integer (set by the engine)."""
    seq = ctx.seq
    if seq is not None:
        ctx.seq_seen += 1
        ctx.last_seq = seq
    else:
        ctx.seq_missing_count += 1
        if len(ctx.seq_missing) < 5:
            ctx.seq_missing.append(ctx.frame_index)


def _lifecycle(ctx: StreamContext, event: dict[str, Any], etype: str) -> None:
    response = event.get("response")
    rid = response.get("id") if isinstance(response, dict) else None
    if ctx.created_id is None and (etype == ctx.families.created or ctx.events == 1):
        ctx.created_id = rid  # a resumed stream has no creation event: its first snapshot names the response
    if etype in ctx.families.terminal:
        if ctx.terminal_type is None:
            ctx.terminal_type, ctx.terminal_at, ctx.terminal_response = etype, ctx.frame_index, response
        if etype.endswith(".failed"):
            ctx.error_resolved = True


def _item(ctx: StreamContext, event: dict[str, Any], done: bool, size: int) -> None:
    index = event.get("output_index")
    raw = event.get("item")
    item = raw if isinstance(raw, dict) else {}
    if not isinstance(index, int):
        return
    if not done:
        if index not in ctx.items:
            ctx.items[index] = Item(id=item.get("id"), type=item.get("type"), added_at=ctx.frame_index)
            if isinstance(item.get("id"), str):
                ctx.item_index.setdefault(item.get("id"), index)
        return
    known = ctx.items.get(index)
    if known is None or known.done_at is not None:
        return
    known.done_at = ctx.frame_index
    if size <= KEEP_ITEM:
        known.done_item = raw
    else:
        known.done_digest = digest(raw)


def _value(ctx: StreamContext, event: dict[str, Any], fam: DeltaFamily, done: bool) -> None:
    key = fam.value_key(event)
    acc = ctx.values.get(key)
    if acc is None:
        acc = ctx.values[key] = Accumulator()
    if done:
        acc.done = True
    else:
        delta = event.get("delta")
        if isinstance(delta, str):
            acc.add(delta)


def digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
