"""Checks: plain functions registered with `@check`; a function's name is its id on the command line,
in profiles and in reports (schemathesis style).

Kinds and their signatures:

- ``start``  ``(ctx: StreamContext) -> None``: once per stream, before any frame;
- ``frame``  ``(ctx: StreamContext, frame: Frame, event: dict | None) -> None``: every SSE frame;
- ``opening`` ``(ctx: StreamContext, event: dict) -> None``: the first two events of a stream;
- ``event``  ``(ctx: StreamContext, event: dict) -> None``: events whose `type` the selector accepts;
- ``unknown`` ``(ctx: StreamContext, event: dict) -> None``: events of a type the spec does not define;
- ``after_terminal`` / ``after_error`` ``(ctx: StreamContext, event: dict) -> None``: events that follow a
  terminal event / an `error` event not yet followed by `response.failed`;
- ``end``    ``(ctx: StreamContext) -> None``: at the end of a stream;
- ``body``   ``(ctx: BodyContext, body: Any) -> None``: a parsed JSON response body;
- ``error``  ``(ctx: BodyContext, body: Any) -> None``: a parsed error body;
- ``unparsed`` ``(ctx: BodyContext, text: bytes | str, problem: str) -> None``: a body that is not JSON.

A check reports through ``ctx.report(...)``; it never raises on bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from respkit.conformance.checks.families import Families

F = TypeVar("F", bound=Callable[..., None])
Selector = Callable[[Families], frozenset[str] | None]


@dataclass(frozen=True)
class CheckInfo:
    name: str
    kind: str
    func: Callable[..., None]
    doc: str
    #: for `event` checks: the event types it looks at (None: every event), from the spec's families
    selector: Selector | None = None


REGISTRY: dict[str, CheckInfo] = {}
KINDS = (
    "start",
    "frame",
    "opening",
    "event",
    "unknown",
    "after_terminal",
    "after_error",
    "end",
    "body",
    "error",
    "unparsed",
)


def check(kind: str, on: Selector | None = None) -> Callable[[F], F]:
    """Register a check of `kind`; its id is the function's name."""
    if kind not in KINDS:
        raise ValueError(f"unknown check kind {kind!r}")

    def register(func: F) -> F:
        doc = (func.__doc__ or "").strip().split("\n")[0]
        REGISTRY[func.__name__] = CheckInfo(func.__name__, kind, func, doc, on)
        return func

    return register


def by_kind(kind: str) -> list[CheckInfo]:
    load_all()
    return [c for c in REGISTRY.values() if c.kind == kind]


def load_all() -> dict[str, CheckInfo]:
    """Import every check module (registration happens on import)."""
    from respkit.conformance.checks import body, envelope, framing, order, reconcile, schemas  # noqa: F401

    return REGISTRY
