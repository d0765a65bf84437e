"""Breakages for `tests._misbehaving_proxy` that try to make respkit spend without bound: a stream that
stalls after its first event, drips, or never ends; a body that echoes the key, is huge, or holds bytes
that are not UTF-8. Shared by tests/test_bounds.py and bench/bench_bounds.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

from tests._misbehaving_proxy import Answer, Breakage, Call, Forward

Change = Callable[[Call, Answer], Answer]


def on(kind: str, change: Change) -> Breakage:
    """A breakage applying `change` to the answers of one kind: `stream`, or `json` (2xx bodies)."""

    async def breakage(call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        if kind == "stream" and answer.is_stream:
            return change(call, answer)
        if kind == "json" and not answer.is_stream and answer.status < 300 and answer.body[:1] == b"{":
            return change(call, answer)
        return answer

    return breakage


def _first_event(body: bytes) -> bytes:
    return body.split(b"\n\n", 1)[0] + b"\n\n"


def stall(call: Call, answer: Answer) -> Answer:
    """The first event, then nothing, ever (the connection stays open)."""

    async def never() -> AsyncIterator[bytes]:
        await asyncio.sleep(3600)
        yield b""

    return replace(answer, body=_first_event(answer.body), more=never)


def drip(interval: float) -> Change:
    """The stream one byte every `interval` seconds."""

    def change(call: Call, answer: Answer) -> Answer:
        async def bytes_() -> AsyncIterator[bytes]:
            for i in range(len(answer.body)):
                await asyncio.sleep(interval)
                yield answer.body[i : i + 1]

        return replace(answer, body=b"", more=bytes_)

    return change


def endless(call: Call, answer: Answer) -> Answer:
    """The first event, then events that are not JSON, without end (8 KiB at a time, as fast as read)."""
    block = b"data: not json\n\n" * 512

    async def forever() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(0)
            yield block

    return replace(answer, body=_first_event(answer.body), more=forever)


def echo_key(call: Call, answer: Answer) -> Answer:
    """The key the request carried, echoed where the checks quote the body (`status` is an enum)."""
    key = call.headers.get("authorization", "").removeprefix("Bearer ")
    return answer.with_json({**answer.json(), "status": f"your key is {key}"})


def padded(total: int) -> Change:
    """The JSON body led by spaces to `total` bytes: still valid JSON, and no part of it is."""

    def change(call: Call, answer: Answer) -> Answer:
        return replace(answer, body=b" " * max(total - len(answer.body), 0) + answer.body)

    return change


def not_utf8(call: Call, answer: Answer) -> Answer:
    """A byte that is not UTF-8 (0xff) inside the first text delta."""
    marker = b'"delta":"'
    at = answer.body.find(marker)
    if at < 0:
        return answer
    at += len(marker)
    return replace(answer, body=answer.body[:at] + b"\xff" + answer.body[at:])
