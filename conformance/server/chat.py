"""A response as a Chat Completions `chat.completion` object (the `chat-completions` quirk mode)."""

from __future__ import annotations

from typing import Any

from respkit.conformance.server.ids import new_id
from respkit.conformance.server.record import Record

_FINISH = {"completed": "stop", "incomplete": "length", "failed": "stop"}


def _message(record: Record) -> tuple[dict[str, Any], str]:
    text = "".join(p.text for p in record.plan.parts if p.kind in ("message", "refusal"))
    calls = [
        {"id": call_id, "type": "function", "function": {"name": p.name, "arguments": p.text}}
        for p, (_, call_id) in zip(record.plan.parts, record.ids, strict=True)
        if p.kind == "function_call"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return message, "tool_calls" if calls else _FINISH.get(record.status, "stop")


def chat_completion(record: Record) -> dict[str, Any]:
    message, finish = _message(record)
    used = record.plan.usage_tokens
    return {
        "id": new_id("chatcmpl"),
        "model": record.request["model"],
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "created": record.created_at,
        "system_fingerprint": "fp_respkit",
        "usage": {
            "prompt_tokens": used["input"],
            "completion_tokens": used["output"],
            "total_tokens": used["input"] + used["output"],
        },
    }
