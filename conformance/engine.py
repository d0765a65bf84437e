"""The engine: feed it traffic (recorded or live) and get findings.

    check_stream(chunks, content_type=..., profile=..., source=...) -> list[Finding]
    check_json_body(body, content_type=..., profile=..., source=...) -> list[Finding]
    check_error(status, headers, body, content_type=..., profile=..., source=...) -> list[Finding]

Streams are read chunk by chunk (any iterable of bytes, e.g. `httpx.Response.iter_bytes()`); memory
stays bounded by the largest event, not the stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from respkit.conformance.checks import by_kind
from respkit.conformance.checks.context import BodyContext, StreamContext
from respkit.conformance.checks.families import Families, derive
from respkit.conformance.checks.framing import clean
from respkit.conformance.checks.state import observe
from respkit.conformance.findings import Capped, Finding, Source, capped
from respkit.conformance.profiles import DEFAULT, Profile, load_profile
from respkit.conformance.schema import SpecValidators, default_validators
from respkit.conformance.sse import Frame, SseReader

Check = tuple[str, Callable[..., None]]


@dataclass(frozen=True)
class Plan:
    """The checks to run, with event checks dispatched by event type (built once per spec)."""

    families: Families
    start: tuple[Check, ...]
    frame: tuple[Check, ...]
    opening: tuple[Check, ...]
    unknown: tuple[Check, ...]
    after_terminal: tuple[Check, ...]
    after_error: tuple[Check, ...]
    by_type: dict[str, tuple[Check, ...]]
    end: tuple[Check, ...]
    body: tuple[Check, ...]
    error: tuple[Check, ...]
    unparsed: tuple[Check, ...]


@cache
def plan_for(validators: SpecValidators) -> Plan:
    families = derive(validators.lenient_doc, validators.event_types)
    events = by_kind("event")
    every = tuple((c.name, c.func) for c in events if c.selector is None)
    by_type = {}
    for etype in validators.event_types:
        by_type[etype] = tuple(
            (c.name, c.func) for c in events if c.selector is None or etype in (c.selector(families) or ())
        )

    def pairs(kind: str) -> tuple[Check, ...]:
        return tuple((c.name, c.func) for c in by_kind(kind))

    return Plan(
        families,
        pairs("start"),
        pairs("frame"),
        pairs("opening"),
        pairs("unknown") + every,
        pairs("after_terminal"),
        pairs("after_error"),
        by_type,
        pairs("end"),
        pairs("body"),
        pairs("error"),
        pairs("unparsed"),
    )


def _run(ctx: Any, checks: Iterable[Check], *args: Any) -> None:
    for name, func in checks:
        ctx.check = name
        try:
            func(ctx, *args)
        except Exception as exc:
            _crashed(ctx, exc)


def _run_event(ctx: StreamContext, checks: tuple[Check, ...], event: dict[str, Any]) -> None:
    """`_run` for the hot path: one argument, no tuple packing."""
    for name, func in checks:
        ctx.check = name
        try:
            func(ctx, event)
        except Exception as exc:
            _crashed(ctx, exc)


def _run_frame(ctx: StreamContext, checks: tuple[Check, ...], frame: Frame, event: dict[str, Any] | None) -> None:
    """`_run` for the frame checks (every frame of a stream without `event:` lines): no tuple packing."""
    for name, func in checks:
        ctx.check = name
        try:
            func(ctx, frame, event)
        except Exception as exc:
            _crashed(ctx, exc)


def _crashed(ctx: Any, exc: Exception) -> None:
    ctx.report(f"internal error in check: {type(exc).__name__}: {exc}", basis="failure")


def _event(data: str) -> dict[str, Any] | None:
    """The event of a frame's data (None: `[DONE]`, or not a JSON object with a string `type`), its key
    members hashable (`_keyed`)."""
    if data == "[DONE]":
        return None
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:  # orjson refuses what some peers accept (integers beyond 64 bits): ask the standard library
            obj = json.loads(data)
        except (ValueError, RecursionError):
            return None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return None
    get = obj.get
    try:
        hash((get("output_index"), get("content_index"), get("summary_index"), get("command_index"), get("item_id")))
    except TypeError:
        return _keyed(obj)
    return obj


#: event members the state machine uses as keys; an unhashable value (a list, an object) is keyed by its text
KEYED = ("output_index", "content_index", "summary_index", "command_index", "item_id")


def _keyed(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, **{k: json.dumps(event[k]) for k in KEYED if isinstance(event.get(k), (list, dict))}}


def _frame(ctx: StreamContext, plan: Plan, frame: Frame) -> None:
    ctx.frame_index = frame.index
    event = _event(frame.data)
    if event is None:
        ctx.seq = None
        _run_frame(ctx, plan.frame, frame, event)
        return
    seq = event.get("sequence_number")
    ctx.seq = seq if type(seq) is int else None
    if not clean(frame, event):
        _run_frame(ctx, plan.frame, frame, event)
    if ctx.events < 2:
        _run_event(ctx, plan.opening, event)
    _run_event(ctx, plan.by_type.get(event["type"], plan.unknown), event)
    if ctx.terminal_type is not None:
        _run_event(ctx, plan.after_terminal, event)
    if not ctx.error_resolved:
        _run_event(ctx, plan.after_error, event)
    observe(ctx, event, len(frame.data))


def _profile(profile: Profile | str | None) -> Profile:
    if isinstance(profile, Profile):
        return profile
    return load_profile(profile or DEFAULT)


def check_stream(
    chunks: Iterable[bytes],
    *,
    content_type: str | None = "text/event-stream",
    profile: Profile | str | None = None,
    source: Source | None = None,
    complete: bool = True,
    validators: SpecValidators | None = None,
) -> list[Finding]:
    """Check a `text/event-stream` body given as chunks. `complete=False`: the body was cut by its source."""
    prof = _profile(profile)
    val = validators or default_validators()
    plan = plan_for(val)
    ctx = StreamContext(val, plan.families, source or Source("stream"), prof.options(complete), content_type)
    ctx.findings = findings = capped()
    _run(ctx, plan.start)
    reader = SseReader()
    for chunk in chunks:
        for frame in reader.feed(chunk):
            _frame(ctx, plan, frame)
    for frame in reader.close():
        _frame(ctx, plan, frame)
    ctx.frame_index = -1
    _run(ctx, plan.end)
    return [prof.classify(f) for f in findings.closed()]


def _parse(body: bytes | str) -> tuple[Any, str | None]:
    try:
        return json.loads(body), None
    except (ValueError, RecursionError) as exc:
        return None, str(exc).split("\n")[0][:200]


def check_json_body(
    body: bytes | str,
    *,
    content_type: str | None = "application/json",
    profile: Profile | str | None = None,
    source: Source | None = None,
    validators: SpecValidators | None = None,
) -> list[Finding]:
    """Check a JSON `Response` body."""
    prof = _profile(profile)
    val = validators or default_validators()
    ctx = BodyContext(val, source or Source("response"), prof.options(), content_type, 200)
    ctx.findings = capped()
    return _check_body(ctx, prof, body, plan_for(val).body)


def check_error(
    status: int | None,
    headers: Mapping[str, str] | None,
    body: bytes | str,
    *,
    content_type: str | None = "application/json",
    profile: Profile | str | None = None,
    source: Source | None = None,
    validators: SpecValidators | None = None,
) -> list[Finding]:
    """Check an error response: status (None when not recorded), headers (None when not recorded), body."""
    prof = _profile(profile)
    val = validators or default_validators()
    ctx = BodyContext(
        val, source or Source("error"), prof.options(), content_type, status, dict(headers or {}), "error"
    )
    ctx.findings = capped()
    return _check_body(ctx, prof, body, plan_for(val).error)


def _check_body(ctx: BodyContext, prof: Profile, body: bytes | str, checks: tuple[Check, ...]) -> list[Finding]:
    parsed, problem = _parse(body)
    if problem is not None:
        _run(ctx, plan_for(ctx.validators).unparsed, body, problem)
    else:
        _run(ctx, checks, parsed)
    return _closed(ctx, prof)


def check_operation_body(
    body: bytes | str,
    schema: str | None,
    *,
    operation: str,
    content_type: str | None = "application/json",
    profile: Profile | str | None = None,
    source: Source | None = None,
    validators: SpecValidators | None = None,
) -> list[Finding]:
    """Check a 2xx JSON body of an operation that does not return a `Response` (a list of input items, a
    token count): JSON served as JSON, and valid against the operation's own schema where the spec gives
    one (it gives none for deleteResponse)."""
    prof = _profile(profile)
    val = validators or default_validators()
    ctx = BodyContext(val, source or Source(operation, operation), prof.options(), content_type, 200)
    ctx.findings = capped()
    plan = plan_for(val)
    parsed, problem = _parse(body)
    if problem is not None:
        _run(ctx, plan.unparsed, body, problem)
        return _closed(ctx, prof)
    _run(ctx, [c for c in plan.body if c[0] in OPERATION_BODY_CHECKS], parsed)
    if schema is not None:
        ctx.check = "operation_response_matches_schema"
        for issue in val.check(schema, parsed):
            message = f"the {operation} body does not match {schema}: {issue.message}"
            ref = f"#/components/schemas/{schema}"
            ctx.report(message, pointer=issue.pointer, expected=ref, received=parsed, basis=issue.basis, note=issue.why)
    return _closed(ctx, prof)


def _closed(ctx: BodyContext, prof: Profile) -> list[Finding]:
    """A body's findings (at most `--max-findings` per check, the rest counted), classified by the profile."""
    found = ctx.findings
    return [prof.classify(f) for f in (found.closed() if isinstance(found, Capped) else found)]


#: the body checks that hold for any operation's JSON body, not only for a `Response`
OPERATION_BODY_CHECKS = frozenset({"response_content_type_json"})
