"""A scripted HTTP server on 127.0.0.1 for the client's misbehaviour tests (statuses the reference server
never sends, Retry-After, HTML error pages, a connection reset in the middle of a stream).

Each request takes the next `Reply` of the script (the last one repeats), and is recorded."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    #: send the body in these chunks, then break the connection off (no final chunk) when `reset`
    chunks: tuple[bytes, ...] = ()
    reset: bool = False
    #: seconds to wait before answering
    delay: float = 0.0

    @classmethod
    def json(cls, value: Any, status: int = 200, **headers: str) -> Reply:
        return cls(status=status, body=json.dumps(value).encode(), headers=headers)

    @classmethod
    def sse(cls, *chunks: bytes, reset: bool = False) -> Reply:
        return cls(chunks=chunks, reset=reset, content_type="text/event-stream")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class StreamBroken(Exception):
    """Raised inside a streaming body to make the server drop the connection."""


@dataclass
class Script:
    replies: list[Reply] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def next(self) -> Reply:
        if not self.replies:
            return Reply()
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def _app(script: Script) -> Starlette:
    async def endpoint(request: Request) -> Response:
        import asyncio

        body = await request.body()
        path = request.scope["raw_path"].decode()
        script.seen.append(Seen(request.method, path, request.url.query, dict(request.headers.items()), body))
        reply = script.next()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if not reply.chunks:
            return Response(reply.body, status_code=reply.status, headers=reply.headers, media_type=reply.content_type)

        async def chunks() -> AsyncIterator[bytes]:
            for chunk in reply.chunks:
                yield chunk
                await asyncio.sleep(0)
            if reply.reset:
                raise StreamBroken("scripted reset")

        return StreamingResponse(
            chunks(), status_code=reply.status, headers=reply.headers, media_type=reply.content_type
        )

    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


@contextmanager
def scripted_server(*replies: Reply) -> Iterator[tuple[str, Script]]:
    """Serve a script on a free port; yields (base URL ending in /v1, the script)."""
    script = Script(list(replies))
    config = uvicorn.Config(_app(script), log_level="critical", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the scripted server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/v1", script
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
