"""What a request must pass before it is served: an API key, the rate limit, a readable JSON body."""

from __future__ import annotations

import json
import math
import time
from collections import deque
from typing import Any

from jsonschema.exceptions import best_match
from starlette.requests import Request

from conformance.server import bundle
from conformance.server.errors import (
    ApiError,
    bad_request,
    json_pointer_to_param,
    rate_limited,
    too_large,
    unauthorized,
)

WINDOW_SECONDS = 60.0
#: Deepest nesting of arrays and objects a request body may have (deeper ones are a 400, never a crash).
MAX_DEPTH = 64


def api_key(request: Request, accepted: set[str] | None) -> str:
    """The request's Bearer key; a 401 when it is missing or not accepted. The key is never echoed."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
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
    """At most `per_minute` requests per key in any 60-second window; a 429 with `Retry-After` beyond."""

    def __init__(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        if self.per_minute is None:
            return
        now = time.monotonic()
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] >= WINDOW_SECONDS:
            seen.popleft()
        if len(seen) >= self.per_minute:
            retry = max(1, math.ceil(WINDOW_SECONDS - (now - seen[0])))
            raise rate_limited(self.per_minute, retry)
        seen.append(now)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
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


def _validate(body: dict[str, Any], schema_name: str) -> None:
    if bundle.fast_request_validator(schema_name).is_valid(body):
        return
    error = best_match(bundle.request_validator(schema_name).iter_errors(body))
    if error is None:
        return
    param = json_pointer_to_param(list(error.absolute_path))
    detail = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    raise bad_request(f"Invalid value for '{param or 'body'}': {detail}", param=param, code="invalid_value")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _parse(raw: bytes) -> Any:
    too_deep = bad_request(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
    try:
        body = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    except (ValueError, UnicodeDecodeError):
        raise bad_request("We could not parse the JSON body of your request: it is not valid JSON.") from None
    if _depth(body) > MAX_DEPTH:
        raise too_deep
    return body


async def read_json(request: Request, schema_name: str | None, limit: int) -> dict[str, Any]:
    """The request's JSON object body, checked against the spec's schema for it."""
    _check_content_type(request)
    body = _parse(await read_body(request, limit))
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    if schema_name:
        _validate(body, schema_name)
    return body
