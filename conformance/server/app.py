"""The reference server as an ASGI app: the spec's /responses operations under /v1, guarded and enveloped."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from respkit.conformance.server.bundle import spec_operations
from respkit.conformance.server.errors import ApiError
from respkit.conformance.server.guards import RateLimiter, api_key
from respkit.conformance.server.quirks import get_quirk
from respkit.conformance.server.routes import HANDLERS, Handler, not_implemented, state_of
from respkit.conformance.server.state import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_STORE_BYTES,
    DEFAULT_READ_TIMEOUT,
    ServerState,
)
from respkit.conformance.server.store import Store
from respkit.conformance.server.ws import WsLimits, responses_socket
from respkit.generator.spec_view import Operation

PREFIX = "/v1"


def _endpoint(operation: Operation, handler: Handler) -> Any:
    async def endpoint(request: Request) -> Response:
        server = state_of(request)
        request.state.operation = operation
        server.limiter.check(api_key(request, server.api_keys))
        return await handler(request, server)

    endpoint.__name__ = operation.operation_id
    return endpoint


class RequestId:
    """Every answer carries an `x-request-id` (`req_` and 32 hex digits), as OpenAI's do: SDKs surface it
    (`_request_id`, an error's `request_id`) and people quote it in bug reports. Pure ASGI, so a stream's
    headers carry it too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = f"req_{uuid.uuid4().hex}".encode()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid)]}
            await send(message)

        await self.app(scope, receive, sending)


def _by_method(endpoints: dict[str, Any]) -> Any:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method  # starlette adds HEAD where GET is
        response: Response = await endpoints[method](request)
        return response

    return endpoint


def _routes() -> list[Route]:
    """One route per path, holding its methods, so that a 405's `Allow` names every method of the path
    (GET and DELETE on /responses/{response_id}), not just the first one starlette tried."""
    paths: dict[str, dict[str, Any]] = {}
    for op in spec_operations():
        paths.setdefault(op.path, {})[op.method] = _endpoint(op, HANDLERS.get((op.method, op.path), not_implemented))
    return [Route(PREFIX + path, _by_method(by), methods=list(by)) for path, by in paths.items()]


def _error_response(request: Request, error: ApiError) -> Response:
    body = state_of(request).quirk.error(error)
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error_response(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Invalid URL ({request.method} {request.url.path})"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    return _error_response(request, ApiError(exc.status_code, message, headers=dict(exc.headers or {})))


async def _unexpected(request: Request, exc: Exception) -> Response:
    error = ApiError(500, "The server had an error while processing your request.", type="server_error")
    return _error_response(request, error)


def _check_bounds(rate_limit: int | None, max_body_bytes: int, max_store_bytes: int, read_timeout: float) -> None:
    for name, value in (("rate_limit", rate_limit), ("max_body_bytes", max_body_bytes),
                        ("max_store_bytes", max_store_bytes)):  # fmt: skip
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if not read_timeout > 0:
        raise ValueError(f"read_timeout must be above 0, got {read_timeout}")


def create_app(
    quirks: str | None = None,
    api_keys: set[str] | None = None,
    rate_limit: int | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_store_bytes: int = DEFAULT_MAX_STORE_BYTES,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    ws_limits: WsLimits | None = None,
) -> Starlette:
    """The reference server. `quirks` names a mode of `conformance.server.quirks.QUIRKS` (None: faithful);
    `api_keys` the accepted Bearer keys (None: any non-empty key); `rate_limit` requests per minute per key;
    the bounds (`conformance.server.state`): request body bytes, stored bytes, seconds to read a body;
    `ws_limits` those of the WebSocket transport (`conformance.server.ws`)."""
    _check_bounds(rate_limit, max_body_bytes, max_store_bytes, read_timeout)
    server = ServerState(
        get_quirk(quirks),
        api_keys=set(api_keys) if api_keys is not None else None,
        max_body_bytes=max_body_bytes,
        limiter=RateLimiter(rate_limit),
        store=Store(max_store_bytes),
        read_timeout=read_timeout,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await server.store.close()

    app = Starlette(
        routes=[*_routes(), WebSocketRoute(PREFIX + "/responses", responses_socket)],  # OpenAI's WebSocket mode
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected},
        middleware=[Middleware(RequestId)],
        lifespan=lifespan,
    )
    app.state.server = server
    app.state.ws_limits = ws_limits or WsLimits()
    return app
