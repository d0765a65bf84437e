"""A proxy in front of the reference server that breaks one thing on purpose, for tests of the live checks.

`run_proxy(upstream)` serves a starlette app on a free 127.0.0.1 port (in a background thread, as
`conformance.server.runner` does) and yields a `Proxy`: its base URL, and the breakage it applies, which a
test may swap. Every request is forwarded with httpx to `upstream`; the answer goes back through the
breakage, which sees the call and may change the request before it is forwarded or the answer after it
(`faithful` changes nothing). Streams are read whole, then
passed on; `rewrite_events` edits their events and keeps the SSE framing valid. An answer with `more` sends
its body, then what `more` yields as it yields it (a stall, a drip, a stream without end).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from respkit.conformance.sse import SseReader

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
#: headers that describe one hop (or the encoding of the body httpx already decoded), not the answer
HOP_HEADERS = frozenset(
    {"connection", "content-length", "content-encoding", "transfer-encoding", "keep-alive", "host", "date", "server"}
)

Event = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One request as the proxy received it: `path` is the URL path with its query, `body` the parsed JSON."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def route(self) -> str:
        """The path without its query."""
        return self.path.split("?", 1)[0]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    #: chunks sent after `body`, as they are produced (None: the body is the whole answer)
    more: Callable[[], AsyncIterator[bytes]] | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    def with_json(self, value: Any) -> Answer:
        return replace(self, body=json.dumps(value).encode())

    @property
    def is_stream(self) -> bool:
        return "event-stream" in self.headers.get("content-type", "")


Forward = Callable[[Call], Awaitable[Answer]]
Breakage = Callable[[Call, Forward], Awaitable[Answer]]


async def faithful(call: Call, forward: Forward) -> Answer:
    """No breakage: the upstream's answer, unchanged."""
    return await forward(call)


def rewrite_events(body: bytes, edit: Callable[[Event], Event | None]) -> bytes:
    """An SSE body with `edit` applied to each JSON event (None drops it); sequence numbers are renumbered
    in order when any were present, so dropping events leaves no gap."""
    reader = SseReader()
    kept: list[Event] = []
    for frame in [*reader.feed(body), *reader.close()]:
        event = edit(json.loads(frame.data))
        if event is not None:
            kept.append(event)
    out = []
    for number, event in enumerate(kept):
        if "sequence_number" in event:
            event = {**event, "sequence_number": number}
        out.append(f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n")
    return "".join(out).encode()


@dataclass
class Proxy:
    """A running proxy: where it listens, and what it breaks (swap `breakage` between conversations)."""

    url: str = ""
    breakage: Breakage = faithful


def create_proxy(upstream: str, proxy: Proxy) -> Starlette:
    origin = httpx.URL(upstream)
    client: list[httpx.AsyncClient] = []

    async def forward(call: Call) -> Answer:
        content = None if call.body is None else json.dumps(call.body).encode()
        url = origin.join(call.path)
        answer = await client[0].request(call.method, url, content=content, headers=call.headers)
        headers = {k.lower(): v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
        return Answer(answer.status_code, headers, answer.content)

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        call = Call(request.method, path, headers, json.loads(raw) if raw else None)
        answer = await proxy.breakage(call, forward)
        if answer.more is not None:
            return StreamingResponse(_sent(answer), status_code=answer.status, headers=answer.headers)
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=30) as http:
            client.append(http)
            yield

    methods = ["GET", "POST", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)], lifespan=lifespan)


async def _sent(answer: Answer) -> AsyncIterator[bytes]:
    yield answer.body
    if answer.more is not None:
        async for chunk in answer.more():
            yield chunk


@contextmanager
def run_proxy(upstream: str) -> Iterator[Proxy]:
    """Serve a faithful proxy on 127.0.0.1 and a free port; its URL is the upstream's base URL, re-hosted."""
    proxy = Proxy()
    config = uvicorn.Config(
        create_proxy(upstream, proxy),
        host=HOST,
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,  # an answer that never ends must not keep the proxy from stopping
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="respkit-misbehaving-proxy", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the misbehaving proxy did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        proxy.url = str(httpx.URL(upstream).copy_with(host=HOST, port=port))
        yield proxy
    finally:
        server.should_exit = True
        thread.join()
