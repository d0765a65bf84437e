"""Run the reference server in a background thread on a free port (tests and `respkit check`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from respkit.conformance.server.app import PREFIX, create_app
from respkit.conformance.server.protocol import bounded_protocol
from respkit.conformance.server.state import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_STORE_BYTES, DEFAULT_READ_TIMEOUT
from respkit.conformance.server.ws import DEFAULT_WS_MAX_MESSAGE_BYTES, WsLimits
from respkit.conformance.server.ws_protocol import WsProtocol

HOST = "127.0.0.1"
START_TIMEOUT = 10.0


def uvicorn_options(read_timeout: float, ws_max_size: int = DEFAULT_WS_MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """What `respkit serve` and `run_server` both give uvicorn: quiet, a deadline for headers, and the
    WebSocket protocol of the `websockets` library (its sans-I/O one) with the message size bound, and
    without per-message compression (deflating each small event cost the server more CPU than sending it)."""
    return {
        "log_level": "warning",
        "access_log": False,
        "http": bounded_protocol(read_timeout),
        "ws": WsProtocol,
        "ws_max_size": ws_max_size,
        "ws_per_message_deflate": False,  # bench/bench_server_ws.py: server CPU 12.0 s -> 7.3 s
    }


@contextmanager
def run_server(
    quirks: str | None = None,
    api_keys: set[str] | None = None,
    rate_limit: int | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_store_bytes: int = DEFAULT_MAX_STORE_BYTES,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    ws_limits: WsLimits | None = None,
) -> Iterator[str]:
    """Serve `create_app(...)` on 127.0.0.1 and a free port; yields the base URL `http://127.0.0.1:PORT/v1`."""
    ws_limits = ws_limits or WsLimits()
    app = create_app(quirks, api_keys, rate_limit, max_body_bytes, max_store_bytes, read_timeout, ws_limits)
    options = uvicorn_options(read_timeout, ws_limits.max_message_bytes)
    config = uvicorn.Config(app, host=HOST, port=0, lifespan="on", timeout_graceful_shutdown=5, **options)
    server = uvicorn.Server(config)  # in a thread, uvicorn leaves signal handlers alone
    thread = threading.Thread(target=server.run, name="respkit-reference-server", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{HOST}:{port}{PREFIX}"
    finally:
        server.should_exit = True
        thread.join()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the reference server did not start")
        time.sleep(0.01)
