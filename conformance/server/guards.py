"""What a request must pass before it is served: an API key, the rate limit, a readable JSON body."""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from itertools import islice
from typing import Any

import orjson
from starlette.requests import HTTPConnection, Request

from respkit.conformance.server.errors import (
    ApiError,
    bad_request,
    rate_limited,
    request_timeout,
    too_large,
    unauthorized,
)
from respkit.conformance.server.sizing import CONTAINERS, json_levels
from respkit.conformance.server.validation import check_body

WINDOW_SECONDS = 60.0
#: Keys the rate limiter follows within one window at most; past it, a request with a new key is a 429.
MAX_TRACKED_KEYS = 100_000
#: Deepest nesting of arrays and objects a request body may have (deeper ones are a 400, never a crash).
MAX_DEPTH = 64
#: Bodies up to this size are parsed and checked on the event loop; larger ones in a thread, since their
#: cost grows with them (a thread hop costs more than checking a small body).
INLINE_BYTES = 64 * 1024


def api_key(request: HTTPConnection, accepted: set[str] | None) -> str:
    """The request's (or WebSocket handshake's) Bearer key; a 401 when it is missing or not accepted.
    The key is never echoed."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if (scheme.lower() != "bearer" or not key) and getattr(request.app.state.server, "keyless", False):
        return ""  # a keyless server (`respkit serve` without --api-key), as local servers are
    if scheme.lower() != "bearer" or not key:
        raise unauthorized(
            "You didn't provide an API key. Provide it in an Authorization header using Bearer auth "
            "(Authorization: Bearer YOUR_KEY).",
            code=None,
        )
    if accepted is not None and key not in accepted:
        raise unauthorized("Incorrect API key provided.", code="invalid_api_key")
    return key


class RateLimiter:
    """At most `per_minute` requests per key in any 60-second window; a 429 with `Retry-After` beyond.

    Keys are kept least recently used first, and one whose last request is a window old is forgotten:
    each key once, so a request pays O(1) for it on average. At most `MAX_TRACKED_KEYS` keys at once."""

    def __init__(self, per_minute: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def check(self, key: str) -> None:
        if self.per_minute is None:
            return
        now = self._clock()
        self._expire(now)
        seen = self._window(key, now, self.per_minute)
        if len(seen) >= self.per_minute:
            retry = max(1, math.ceil(WINDOW_SECONDS - (now - seen[0])))
            raise rate_limited(self.per_minute, retry)
        seen.append(now)

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if oldest and now - oldest[-1] < WINDOW_SECONDS:
                return
            self._seen.popitem(last=False)

    def _window(self, key: str, now: float, per_minute: int) -> deque[float]:
        """The key's requests of the last window; a 429 for a new key while every place is taken."""
        if key not in self._seen and len(self._seen) >= MAX_TRACKED_KEYS:
            raise rate_limited(per_minute, math.ceil(WINDOW_SECONDS))
        seen = self._seen.setdefault(key, deque())
        self._seen.move_to_end(key)
        while seen and now - seen[0] >= WINDOW_SECONDS:
            seen.popleft()
        return seen


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, at most `limit` bytes (413 beyond) arriving within `timeout` seconds (408 beyond: a body
    that drips would hold its connection and buffer for ever)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    try:
        async with asyncio.timeout(timeout):
            return await _received(request, limit)
    except TimeoutError:
        raise request_timeout(timeout) from None


async def _received(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def _check_content_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        shown = media or "none"
        raise ApiError(
            415,
            f"Unsupported content type: '{shown}'. This endpoint only accepts 'application/json' bodies.",
            code="unsupported_content_type",
        )


def _nested_too_deep(value: Any) -> bool:
    """More than `MAX_DEPTH` levels hold an array or object."""
    nested = (level for level in json_levels(value) if any(type(v) in CONTAINERS for v in level))
    return next(islice(nested, MAX_DEPTH, None), None) is not None


def _too_deep() -> ApiError:
    return bad_request(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")


def _parse(raw: bytes) -> Any:
    """Strict JSON (RFC 8259), as OpenAI reads it: no NaN or Infinity, no lone surrogate, no number
    beyond a double (Python's `json` takes all three, and the answer then failed with a 500)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise _too_deep() from None
        raise bad_request(f"We could not parse the JSON body of your request: it is not valid JSON ({exc}).") from None
    if _nested_too_deep(body):
        raise _too_deep()
    return body


def _checked(raw: bytes, schema_name: str | None) -> dict[str, Any]:
    body = _parse(raw)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    if schema_name:
        check_body(body, schema_name)
    return body


async def read_json(request: Request, schema_name: str | None, limit: int, timeout: float) -> dict[str, Any]:
    """The request's JSON object body, checked against the spec's schema for it."""
    _check_content_type(request)
    raw = await read_body(request, limit, timeout)
    if len(raw) <= INLINE_BYTES:
        return _checked(raw, schema_name)
    return await asyncio.to_thread(_checked, raw, schema_name)
