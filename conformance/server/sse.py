"""Server-sent events framing: `event: TYPE` (unless a quirk drops it), `data: JSON`, a blank line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from respkit.conformance.server.events import Event, obfuscated
from respkit.conformance.server.quirks import Quirk

#: Events a stream sends before it lets the other streams of the server run.
FAIR_SHARE = 16


def frame(event: Event, event_line: bool = True) -> bytes:
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event['type']}\n" if event_line else ""
    return f"{head}data: {data}\n\n".encode()


async def from_iterable(events: Iterable[Event]) -> AsyncIterator[Event]:
    for event in events:
        yield event


def _with_body(event: Event, quirk: Quirk) -> Event:
    response: Any = event.get("response")
    return {**event, "response": quirk.body(response)} if isinstance(response, dict) else event


async def _obfuscated(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    async for event in events:
        yield obfuscated(event)


async def encode(
    events: AsyncIterator[Event], quirk: Quirk, model: str, ready: bool = False, obfuscate: bool = True
) -> AsyncIterator[bytes]:
    """The stream's bytes: preamble, one frame per event (obfuscation padding, then quirks, applied), epilogue.

    `ready`: every event is available at once (nothing waits on work in progress), so after the first
    event, frames are written `FAIR_SHARE` at a time; otherwise each frame is written as it comes."""
    if quirk.preamble:
        yield quirk.preamble
    pending: list[bytes] = []
    count = 0
    async for event in quirk.events(_obfuscated(events) if obfuscate else events, model):
        pending.append(frame(_with_body(event, quirk), quirk.event_lines))
        count += 1
        if not ready or count == 1 or count % FAIR_SHARE == 0:
            yield b"".join(pending)
            pending.clear()
        if count % FAIR_SHARE == 0:
            await asyncio.sleep(0)  # sending rarely blocks: let other streams have their turn
    if pending:
        yield b"".join(pending)
    if quirk.epilogue:
        yield quirk.epilogue
