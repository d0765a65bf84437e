"""Reconciliation: deltas against done values, done items against the terminal response, ids, usage."""

from __future__ import annotations

from typing import Any

from respkit.conformance.checks import check
from respkit.conformance.checks.context import StreamContext
from respkit.conformance.checks.families import Families
from respkit.conformance.checks.state import digest
from respkit.conformance.checks.usage import usage_missing, usage_problems

#: opaque state that a provider may re-encrypt between events; compared by presence only
OPAQUE = frozenset({"encrypted_content"})
#: how OpenAI's opaque state starts (a Fernet token: version byte 0x80, base64url). It is encrypted anew each
#: time an item is serialized (`encrypted_content`, a program item's `fingerprint`), so two such values are
#: compared by presence too, whatever the member is called
FERNET = "gAAAAA"


def _opaque(key: str, a: Any, b: Any) -> bool:
    if key in OPAQUE:
        return True
    return isinstance(a, str) and isinstance(b, str) and a.startswith(FERNET) and b.startswith(FERNET)


def first_difference(a: Any, b: Any, at: str = "") -> str | None:
    """The JSON Pointer of the first place where `a` and `b` differ (opaque members aside), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{at}/{key}"
            if _opaque(key, a[key], b[key]):
                continue
            found = first_difference(a[key], b[key], f"{at}/{key}")
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{at}/{i}")
            if found is not None:
                return found
        return None if len(a) == len(b) else f"{at}/{min(len(a), len(b))}"
    return None if a == b and type(a) is type(b) else at


def _valued_done(f: Families) -> frozenset[str]:
    return frozenset(t for t, fam in f.deltas.items() if t == fam.done and fam.value)


@check("event", on=_valued_done)
def stream_deltas_match_done(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Concatenated deltas equal the `.done` value (text, arguments, refusal, reasoning, ...)."""
    fam = ctx.families.deltas[event["type"]]
    value = event.get(fam.value or "")
    acc = ctx.values.get(fam.value_key(event))
    if not isinstance(value, str) or acc is None or acc.done:
        return
    if not acc.matches(value):
        ctx.report(
            f"the {acc.count} deltas do not add up to the done value",
            pointer=f"/{fam.value}",
            expected=value,
            received=acc.text(),
        )


@check("event", on=lambda f: f.part_done)
def stream_part_matches_value(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A done part holds the value its deltas built."""
    part = event.get("part")
    ptype = part.get("type") if isinstance(part, dict) else None
    if not isinstance(part, dict) or not isinstance(ptype, str):
        return
    field = ctx.families.parts[event["type"]]
    for fam in {f.prefix: f for f in ctx.families.deltas.values() if field in f.keys and f.value}.values():
        acc = ctx.values.get(fam.value_key(event))
        value = part.get(fam.value or "")
        if fam.prefix.endswith(ptype) and acc is not None and isinstance(value, str) and not acc.matches(value):
            ctx.report(
                f"the {acc.count} deltas do not add up to the done part's value",
                pointer=f"/part/{fam.value}",
                expected=value,  # as in stream_deltas_match_done: the done value, then what the deltas built
                received=acc.text(),
            )


@check("event", on=lambda f: f.part_done)
def stream_part_holds_added_annotations(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Each annotation a text part's `annotation.added` streamed is in the done part, at its index."""
    part = event.get("part")
    streamed = ctx.added_annotations.get((event.get("output_index"), event.get("content_index")))
    if not streamed or not isinstance(part, dict):
        return
    final = part.get("annotations")
    final = final if isinstance(final, list) else []
    for index, annotation in enumerate(streamed):
        held = final[index] if index < len(final) else "(missing)"
        if held != annotation:
            ctx.report(
                f"annotation {index} streamed by annotation.added differs in the done part",
                pointer=f"/part/annotations/{index}",
                expected=annotation,
                received=held,
            )
            return


@check("event", on=lambda f: f.terminal)
def stream_item_done_matches_terminal(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Each `output_item.done` item equals the terminal response's item at that index."""
    response = event.get("response")
    output = response.get("output") if isinstance(response, dict) else None
    if not isinstance(output, list):
        return
    for index, item in sorted(ctx.items.items()):
        if item.done_at is None:
            continue
        final = output[index] if index < len(output) else None
        if item.done_digest is None:
            where = first_difference(item.done_item, final)
        else:
            where = None if digest(final) == item.done_digest else ""
        if where is not None:
            ctx.report(
                f"output[{index}] differs from its output_item.done (event #{item.done_at})",
                pointer=f"/response/output/{index}{where}",
                expected=item.done_item or item.done_digest,
                received=final,
            )
    done = sum(1 for item in ctx.items.values() if item.done_at is not None)
    if len(output) != len(ctx.items) and not event["type"].endswith(".failed"):
        ctx.report(
            f"the response has {len(output)} output items, the stream announced {len(ctx.items)} ({done} done)",
            pointer="/response/output",
            expected=len(ctx.items),
            received=len(output),
        )


@check("event", on=lambda f: f.terminal)
def stream_terminal_status_matches_type(ctx: StreamContext, event: dict[str, Any]) -> None:
    """The terminal response's `status` matches its event type."""
    response = event.get("response")
    status = response.get("status") if isinstance(response, dict) else None
    expected = event["type"].rsplit(".", 1)[-1]
    if status != expected:
        ctx.report(
            "terminal status does not match the event type",
            pointer="/response/status",
            expected=expected,
            received=status,
        )


@check("event", on=lambda f: f.lifecycle)
def stream_response_ids_agree(ctx: StreamContext, event: dict[str, Any]) -> None:
    """created, in_progress and the terminal event carry the same response id."""
    response = event.get("response")
    rid = response.get("id") if isinstance(response, dict) else None
    if ctx.created_id is not None and rid != ctx.created_id:
        ctx.report(
            "response id differs from the created one", pointer="/response/id", expected=ctx.created_id, received=rid
        )


@check("event", on=lambda f: f.terminal)
def stream_usage_present(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A completed response reports its usage."""
    if usage_missing(event.get("response")):
        ctx.report(
            "completed response without usage",
            pointer="/response/usage",
            expected="a usage object",
            received=(event.get("response") or {}).get("usage"),
        )


@check("event", on=lambda f: f.terminal)
def stream_usage_totals_add_up(ctx: StreamContext, event: dict[str, Any]) -> None:
    """Usage totals add up (input + output = total; details within their totals)."""
    for where, message, expected, received in usage_problems(event.get("response")):
        ctx.report(message, pointer="/response" + where, expected=expected, received=received)
