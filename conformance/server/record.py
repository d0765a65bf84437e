"""A response the server made: its request, its model plan, and its state over time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from respkit.conformance.server.ids import new_id
from respkit.conformance.server.items import Include, item_ids, output_item
from respkit.conformance.server.model import Plan

_ECHOED_WITH_DEFAULTS: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "prompt_cache_key": None,
    "safety_identifier": None,
    "temperature": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "top_logprobs": 0,
    "top_p": 1.0,
    "truncation": "disabled",
}


@dataclass
class Record:
    request: dict[str, Any]
    plan: Plan
    input_items: list[dict[str, Any]]
    history: list[dict[str, Any]]
    id: str = field(default_factory=lambda: new_id("resp"))
    created_at: int = field(default_factory=lambda: int(time.time()))
    status: str = "in_progress"
    completed_at: int | None = None
    ids: list[tuple[str, str]] = field(default_factory=list)

    include: Include = field(default_factory=Include)

    def __post_init__(self) -> None:
        self.ids = item_ids(self.plan.parts)
        self.include = Include.of(self.request)

    @property
    def background(self) -> bool:
        return bool(self.request.get("background"))

    @property
    def stored(self) -> bool:
        return self.request.get("store") is not False

    def output(self) -> list[dict[str, Any]]:
        return [
            output_item(p, i, c, done=True, include=self.include)
            for p, (i, c) in zip(self.plan.parts, self.ids, strict=True)
        ]

    def finish(self) -> None:
        self.status = self.plan.status
        self.completed_at = int(time.time()) if self.status == "completed" else None

    def body(self, status: str | None = None) -> dict[str, Any]:
        """The Response object in `status` (default: the current one); output and usage once final."""
        status = status or self.status
        final = status in ("completed", "incomplete", "failed")
        return response_body(self, status, self.output() if final and status != "failed" else [], final)


def usage_object(input_tokens: int, output_tokens: int, reasoning_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def _reasoning(request: dict[str, Any]) -> dict[str, Any]:
    given = request.get("reasoning") or {}
    return {"effort": given.get("effort"), "summary": given.get("summary")}


def _text(request: dict[str, Any]) -> dict[str, Any]:
    given = dict(request.get("text") or {})
    given.setdefault("format", {"type": "text"})
    given.setdefault("verbosity", "medium")
    return given


def _echoed_tool(tool: Any) -> Any:
    """A tool as the response echoes it: a function tool sent without `strict` is strict (the default)."""
    if isinstance(tool, dict) and tool.get("type") == "function" and "strict" not in tool:
        return {**tool, "strict": True}
    return tool


#: Members OpenAI's responses carry since 2026-01 that the spec does not define (0.0: the request cannot
#: set them, as `CreateResponse` has no such parameter); corpus: openai/reasoning_minimal_stream.sse onward.
_PENALTIES = {"frequency_penalty": 0.0, "presence_penalty": 0.0}
#: OpenAI's order: these four first, then the rest alphabetically, `metadata` last
#: (openai/function_call_gpt-5.6-terra.json, openai/commentary_then_function_call_stream.sse).
_LEADING = ("id", "object", "created_at", "status")


def _in_openai_order(body: dict[str, Any]) -> dict[str, Any]:
    rest = sorted(k for k in body if k not in _LEADING and k != "metadata")
    return {k: body[k] for k in (*_LEADING, *rest, "metadata") if k in body}


def response_body(record: Record, status: str, output: list[dict[str, Any]], final: bool) -> dict[str, Any]:
    """The Response object as OpenAI sends it: every member present, `usage` null until the response ends
    (and when it failed or was cancelled), `user` null unless the request set one (openai/background_*.json,
    every `response.created` of openai/*.sse)."""
    request, plan = record.request, record.plan
    body: dict[str, Any] = {
        "id": record.id,
        "object": "response",
        "created_at": record.created_at,
        "status": status,
        "background": record.background,
        "completed_at": record.completed_at if status == "completed" else None,
        "error": plan.error if status == "failed" else None,
        "incomplete_details": {"reason": plan.incomplete_reason} if status == "incomplete" else None,
        "model": request["model"],
        "output": output,
        "prompt_cache_retention": request.get("prompt_cache_retention"),
        "reasoning": _reasoning(request),
        "service_tier": "default",
        "store": record.stored,
        "text": _text(request),
        "user": request["user"] if isinstance(request.get("user"), str) else None,
        "usage": None,
        "metadata": request.get("metadata") or {},
        **_PENALTIES,
    }
    for key, default in _ECHOED_WITH_DEFAULTS.items():
        body[key] = request[key] if request.get(key) is not None else default
    body["tools"] = [_echoed_tool(tool) for tool in body["tools"]]
    if final and status != "failed":
        used = plan.usage_tokens
        body["usage"] = usage_object(used["input"], used["output"], used["reasoning"])
    return _in_openai_order(body)
