"""A JSON response body: content type, JSON, schema, usage."""

from __future__ import annotations

from typing import Any

from respkit.conformance.checks import check
from respkit.conformance.checks.context import BodyContext
from respkit.conformance.checks.schemas import report_issues
from respkit.conformance.checks.usage import usage_missing, usage_problems


@check("unparsed")
def response_is_json(ctx: BodyContext, text: bytes | str, problem: str) -> None:
    """A response body is JSON."""
    if ctx.kind == "response":
        ctx.report(f"the body is not JSON: {problem}", expected="JSON", received=text[:200])


@check("body")
def response_content_type_json(ctx: BodyContext, body: Any) -> None:
    """A response body is served as `application/json`."""
    media = (ctx.content_type or "").split(";", 1)[0].strip().lower()
    if ctx.content_type is not None and media != "application/json":
        ctx.report("response not served as application/json", expected="application/json", received=ctx.content_type)


@check("body")
def response_matches_schema(ctx: BodyContext, body: Any) -> None:
    """The body is valid against `Response` (spec plus errata)."""
    issues = ctx.validators.check("Response", body, strict_only=ctx.options.strict)
    report_issues(ctx, issues, "Response", body)


@check("body")
def response_usage_present(ctx: BodyContext, body: Any) -> None:
    """A completed response reports its usage."""
    if usage_missing(body):
        ctx.report(
            "completed response without usage", pointer="/usage", expected="a usage object", received=body.get("usage")
        )


@check("body")
def response_usage_totals_add_up(ctx: BodyContext, body: Any) -> None:
    """Usage totals add up (input + output = total; details within their totals)."""
    for where, message, expected, received in usage_problems(body):
        ctx.report(message, pointer=where, expected=expected, received=received)
