"""Error responses: content type, OpenAI's `{"error": {...}}` envelope, status against type and code."""

from __future__ import annotations

from typing import Any

from respkit.conformance.checks import check
from respkit.conformance.checks.context import BodyContext
from respkit.conformance.checks.schemas import report_issues

ENVELOPE = "ErrorResponse"

#: which HTTP statuses an error's type or code implies (first matching keyword wins)
STATUS_HINTS: tuple[tuple[str, frozenset[int]], ...] = (
    ("insufficient_quota", frozenset({429})),
    ("rate_limit", frozenset({429})),
    ("api_key", frozenset({401})),
    ("authentication", frozenset({401})),
    ("unauthorized", frozenset({401})),
    ("permission", frozenset({403})),
    ("not_found", frozenset({400, 404})),  # OpenAI answers an unknown model with 400 model_not_found
    ("server_error", frozenset(range(500, 600))),
    ("invalid_request", frozenset({400, 404, 409, 413, 415, 422})),
)

#: what a status calls for, when the body names neither keyword
STATUS_NEEDS: dict[int, tuple[str, ...]] = {
    401: ("api_key", "authentication", "unauthorized"),
    404: ("not_found",),
    429: ("rate_limit", "insufficient_quota", "requests", "tokens"),
}


def _error(body: Any) -> dict[str, Any] | None:
    err = body.get("error") if isinstance(body, dict) else None
    return err if isinstance(err, dict) else None


@check("unparsed")
def error_is_json(ctx: BodyContext, text: bytes | str, problem: str) -> None:
    """An error body is JSON (OpenAI's envelope), not HTML or plain text."""
    if ctx.kind == "error":
        ctx.report(f"the error body is not JSON: {problem}", expected="a JSON error envelope", received=text[:200])


@check("error")
def error_content_type_json(ctx: BodyContext, body: Any) -> None:
    """An error body is served as `application/json`."""
    media = (ctx.content_type or "").split(";", 1)[0].strip().lower()
    if ctx.content_type is not None and media != "application/json":
        ctx.report("error not served as application/json", expected="application/json", received=ctx.content_type)


def _what(body: Any) -> str:
    """What the body holds instead of an envelope, in a few words (a profile's deviation can name it)."""
    if not isinstance(body, dict):
        return f"the body is {_json_type(body)}"
    if "error" not in body:
        return f"members: {', '.join(sorted(body)[:8])}"
    return f"`error` is {_json_type(body['error'])}"


def _json_type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "an array"}
    return "null" if value is None else names.get(type(value), "an object")


@check("error")
def error_matches_envelope(ctx: BodyContext, body: Any) -> None:
    """The body is OpenAI's error envelope: `{"error": {"message", "type", "param", "code"}}`, nothing else."""
    if _error(body) is None:
        ctx.report(
            f"not an OpenAI error envelope: no `error` object at the top level ({_what(body)})",
            pointer="/error",
            expected={"error": {"message": "...", "type": "...", "param": None, "code": "..."}},
            received=body,
        )
        return
    report_issues(ctx, ctx.validators.check(ENVELOPE, body, strict_only=ctx.options.strict), ENVELOPE, body)
    for extra in sorted(set(body) - {"error"}):
        ctx.report(
            f"member {extra!r} outside the envelope", pointer="/" + extra, expected="only `error`", received=body[extra]
        )


@check("error")
def error_status_matches_type(ctx: BodyContext, body: Any) -> None:
    """The HTTP status fits `error.type` and `error.code` (401 authentication, 404 not found, 429 rate limit, ...)."""
    err = _error(body)
    if err is None or ctx.status is None:
        return
    words = f"{err.get('type')} {err.get('code')}".lower()
    for keyword, statuses in STATUS_HINTS:
        if keyword in words:
            if ctx.status not in statuses:
                ctx.report(
                    f"status {ctx.status} does not fit an error of type/code {keyword!r}",
                    pointer="/error/type",
                    expected=sorted(statuses)[:6],
                    received=ctx.status,
                )
            return
    needs = STATUS_NEEDS.get(ctx.status)
    if needs and not any(n in words for n in needs):
        ctx.report(
            f"a {ctx.status} whose type/code says nothing of {needs[0]}",
            pointer="/error/type",
            expected=list(needs),
            received={"type": err.get("type"), "code": err.get("code")},
        )


@check("error")
def error_retry_after_on_429(ctx: BodyContext, body: Any) -> None:
    """A 429 says when to retry (`Retry-After`), where headers were recorded."""
    if ctx.status == 429 and ctx.headers and not any(k.lower() == "retry-after" for k in ctx.headers):
        ctx.report("429 without a Retry-After header", expected="Retry-After", received=sorted(ctx.headers))
