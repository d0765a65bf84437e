"""`respkit serve`: run the reference server in the foreground until interrupted."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

import uvicorn

from respkit.conformance.cli import EXIT_OK, UsageError
from respkit.conformance.server.app import PREFIX, create_app
from respkit.conformance.server.quirks import QUIRKS, describe
from respkit.conformance.server.runner import uvicorn_options
from respkit.conformance.server.state import DEFAULT_MAX_STORE_BYTES, DEFAULT_READ_TIMEOUT
from respkit.conformance.server.ws import WsLimits


def _bounds(args: argparse.Namespace) -> None:
    """Each bound at its default unless given; one given must be at least 1 (above 0 for the timeout)."""
    args.max_store_bytes = DEFAULT_MAX_STORE_BYTES if args.max_store_bytes is None else args.max_store_bytes
    args.read_timeout = DEFAULT_READ_TIMEOUT if args.read_timeout is None else args.read_timeout
    for option in ("rate_limit", "max_body_bytes", "max_store_bytes"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UsageError(f"--{option.replace('_', '-')}: must be at least 1, got {value}")
    if not args.read_timeout > 0:
        raise UsageError(f"--read-timeout: must be above 0 seconds, got {args.read_timeout:g}")


def _ws_limits(args: argparse.Namespace) -> WsLimits:
    """The WebSocket bounds: each at its default unless given; a count at least 1, seconds above 0."""
    given: dict[str, Any] = {}
    for name in ("max_message_bytes", "max_streams", "idle_timeout", "max_connection_seconds"):
        value = getattr(args, f"ws_{name}", None)
        if value is None:
            continue
        counted = isinstance(value, int)
        if not (value >= 1 if counted else value > 0):
            floor = "at least 1" if counted else "above 0"
            raise UsageError(f"--ws-{name.replace('_', '-')}: must be {floor}, got {value:g}")
        given[name] = value
    return WsLimits(**given)


def _options(args: argparse.Namespace) -> None:
    if args.quirks is not None and args.quirks not in QUIRKS:
        raise UsageError(f"--quirks: unknown mode {args.quirks!r} (see `respkit serve --list-quirks`)")
    _bounds(args)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be between 0 and 65535, got {args.port}")
    if args.api_key is not None and not all(k.strip() for k in args.api_key):
        raise UsageError("--api-key: a key must not be empty")


def _check_address(host: str, port: int) -> None:
    """Fail with one line (exit 2) when the address cannot be listened on, before uvicorn tries."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UsageError(f"--host/--port: cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(args: argparse.Namespace) -> int:
    if args.list_quirks:
        print(describe())
        return EXIT_OK
    _options(args)
    _check_address(args.host, args.port)
    ws = _ws_limits(args)
    app = create_app(
        quirks=args.quirks,
        api_keys=set(args.api_key) if args.api_key else None,
        rate_limit=args.rate_limit,
        max_body_bytes=args.max_body_bytes,
        max_store_bytes=args.max_store_bytes,
        read_timeout=args.read_timeout,
        ws_limits=ws,
    )
    app.state.server.keyless = not args.api_key  # no --api-key: a key is not needed (any is accepted)
    mode = args.quirks or "faithful"
    keys = "" if args.api_key else ", no key needed"
    print(f"respkit: serving http://{args.host}:{args.port}{PREFIX} ({mode}{keys}); Ctrl-C stops", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, **uvicorn_options(args.read_timeout, ws.max_message_bytes))
    return EXIT_OK
