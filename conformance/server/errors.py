"""Client-facing errors in OpenAI's envelope `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    """An error the server answers with; `envelope()` is the body OpenAI would send."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def unknown_parameter(name: str) -> ApiError:
    return bad_request(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")


def request_timeout(seconds: float) -> ApiError:
    """A request that did not arrive in time; the connection is closed, since its rest may still come."""
    return ApiError(
        408,
        f"The request did not arrive within {seconds:g} seconds (`respkit serve --read-timeout`).",
        code="request_timeout",
        headers={"Connection": "close"},
    )


def not_found(message: str, param: str | None = None) -> ApiError:
    return ApiError(404, message, param=param)


def unauthorized(message: str, code: str | None) -> ApiError:
    return ApiError(401, message, code=code)


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"The request body is larger than {limit} bytes.", code="request_too_large")


def rate_limited(limit: int, retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Rate limit reached: {limit} requests per minute. Try again in {retry_after}s.",
        type="requests",
        code="rate_limit_exceeded",
        headers={"Retry-After": str(retry_after)},
    )


def json_pointer_to_param(path: list[str | int]) -> str | None:
    """`["input", 0, "content"]` -> `input[0].content`, the way OpenAI names a field in `param`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None
