"""Each event against its own schema, picked by `type`; unknown types are their own finding."""

from __future__ import annotations

import binascii
from typing import Any

from respkit.conformance.checks import check
from respkit.conformance.checks.context import StreamContext
from respkit.conformance.schema import SchemaIssue
from respkit.generator import pointer


def _at(instance: Any, where: str) -> Any:
    try:
        return pointer.resolve(instance, where)
    except (KeyError, ValueError):
        return "(missing)"


def report_issues(ctx: Any, issues: list[SchemaIssue], what: str, instance: Any = None) -> None:
    """Failures one by one; errata and drift once per explanation (they repeat on every event)."""
    for issue in issues:
        if issue.basis == "failure":
            required = issue.message.endswith("is a required property")
            ctx.report(
                f"{what}: {issue.message}",
                pointer=issue.pointer,
                expected="present (required)" if required else "a value the spec allows",
                received=_at(instance, issue.pointer),
            )
            continue
        seen: set[tuple[str, str]] = ctx.__dict__.setdefault("_explained", set())
        key = (ctx.check, issue.why)
        if key in seen:
            continue
        seen.add(key)
        label = "spec drift" if issue.basis == "drift" else "spec erratum"
        ctx.report(f"{what}: {issue.message} ({label})", pointer=issue.pointer, basis=issue.basis, note=issue.why)


def _without_output(event: dict[str, Any], ctx: StreamContext) -> dict[str, Any]:
    """For explaining errata only: a terminal response's output items were explained as
    `output_item.done` events already; leaving them out keeps the error walk short."""
    response = event.get("response")
    if event["type"] in ctx.families.terminal and isinstance(response, dict) and response.get("output") and ctx.items:
        return {**event, "response": {**response, "output": []}}
    return event


@check("unknown")
def event_type_known(ctx: StreamContext, event: dict[str, Any]) -> None:
    """The event's `type` is one this spec version defines. Real streams carry types the spec does not
    (a provider's own, or OpenAI's ahead of its spec): those are their own kind of finding, `undocumented`,
    which fails only under `strict`. A mangled known event still fails through what its loss breaks
    (order, reconciliation, the terminal event)."""
    etype = event["type"]
    allowed = any(etype.startswith(p) for p in ctx.options.extension_prefixes)
    ctx.report(
        f"event type {etype!r} is not defined by {ctx.validators.version}",
        pointer="/type",
        received=etype,
        basis="erratum" if allowed else "undocumented",
        note="the profile allows this extension prefix" if allowed else "an event type the spec does not define",
    )


@check("event")
def event_matches_schema(ctx: StreamContext, event: dict[str, Any]) -> None:
    """The event is valid against its own schema (spec plus errata)."""
    validator = ctx.validators.event_validators.get(event["type"], False)
    if validator is False:  # not looked up yet
        validator = ctx.validators.event_validator(event["type"])
    if validator is not None and not validator.is_valid(event):
        _schema_issues(ctx, ctx.validators.event_types[event["type"]], event)


#: members an output item has from its first snapshot on: what it is, and how far along it is
_IDENTITY = frozenset({"type", "id", "status"})
SNAPSHOT_WHY = (
    "`output_item.added` carries the item as it starts, and OpenAI fills in what the call produces (a web "
    "search's `action`, an image's `result`) by `output_item.done`; the spec describes the finished item, "
    "which is still checked in full."
)


def _snapshot(issue: SchemaIssue) -> SchemaIssue:
    """An in-progress snapshot may lack the members of the finished item beyond its identity: a missing
    member of the added item, or of a member it already carries (a web search's `action` without its
    `query`, which the older spec required), is an erratum (the spec describes the finished item); a
    missing identity (`type`, `id`, `status`) at any depth and anything else stays a failure."""
    tokens = issue.pointer.split("/")
    missing = issue.basis == "failure" and issue.message.endswith(" is a required property")
    if missing and len(tokens) >= 3 and tokens[1] == "item" and tokens[-1] not in _IDENTITY:
        return SchemaIssue(issue.pointer, issue.message, "erratum", SNAPSHOT_WHY)
    return issue


def _schema_issues(ctx: StreamContext, name: str, event: dict[str, Any]) -> None:
    """The published spec rejects the event: its failures, or the errata explained once per schema and stream."""
    val = ctx.validators
    explained: set[str] = ctx.__dict__.setdefault("_explained_schemas", set())
    if ctx.options.strict or not val.accepts(name, event, strict=False):
        explained.add(name)
        issues = val.check(name, event, strict_only=ctx.options.strict)
        if event["type"] == ctx.families.item_added:
            issues = [_snapshot(issue) for issue in issues]
        report_issues(ctx, issues, name, event)
        return
    if name in explained:
        return  # only errata reject it, and those of this schema were reported on an earlier event
    response = event.get("response")
    if response is not None and response == ctx.__dict__.get("_explained_response"):
        return  # the same response as an explained lifecycle event (in_progress repeats created)
    ctx.__dict__["_explained_response"] = response
    explained.add(name)
    # the errata walk: the spec with errata accepts the event, so it accepts it without its output too
    # (`Response.output` is a plain array); where the published spec accepts that, the walk finds nothing
    report_issues(ctx, val.explain(name, _without_output(event, ctx)), name, event)


@check("event", on=lambda f: frozenset(f.base64))
def event_base64_decodes(ctx: StreamContext, event: dict[str, Any]) -> None:
    """A member the spec describes as base64 (audio deltas, partial images) decodes as base64."""
    for name in ctx.families.base64[event["type"]]:
        value = event.get(name)
        try:
            if isinstance(value, str):
                binascii.a2b_base64(value, strict_mode=True)
        except binascii.Error as exc:
            ctx.report(f"`{name}` is not base64: {exc}", pointer=f"/{name}", expected="base64", received=value)
