"""Items: a request's input as stored item resources, and the model's output parts as output items."""

from __future__ import annotations

from typing import Any

from conformance.server.ids import new_id
from conformance.server.model import Part

_ID_PREFIX = {"message": "msg", "function_call": "fc", "function_call_output": "fco", "reasoning": "rs"}


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _content_list(content: Any, role: str) -> list[dict[str, Any]]:
    parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else list(content)
    if role != "assistant":
        return parts
    return [_output_text(p.get("text", "")) if p.get("type") in ("input_text", "output_text") else p for p in parts]


def _message(item: dict[str, Any]) -> dict[str, Any]:
    role = item.get("role", "user")
    return {
        "id": item.get("id") or new_id("msg"),
        "type": "message",
        "role": role,
        "status": item.get("status") or "completed",
        "content": _content_list(item.get("content", ""), role),
    }


def input_item(item: dict[str, Any]) -> dict[str, Any]:
    """One input item as the item resource `input_items` lists (with an id and a status)."""
    kind = item.get("type", "message")
    if kind == "message":
        return _message(item)
    out = {k: v for k, v in item.items() if v is not None}
    out.setdefault("id", new_id(_ID_PREFIX.get(kind, "item")))
    if kind in ("function_call", "function_call_output"):
        out.setdefault("status", "completed")
    return out


def input_items(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [_message({"role": "user", "content": value})]
    return [input_item(i) for i in value if isinstance(i, dict) and i.get("type") != "item_reference"]


def output_item(part: Part, item_id: str, call_id: str, done: bool) -> dict[str, Any]:
    """The output item for `part`: as announced (`done=False`, empty) or as finished."""
    status = ("completed" if part.complete else "incomplete") if done else "in_progress"
    if part.kind == "reasoning":
        return {"id": item_id, "type": "reasoning", "summary": [summary_part(part.text)] if done else []}
    if part.kind == "function_call":
        arguments = part.text if done else ""
        return {
            "id": item_id,
            "type": "function_call",
            "status": status,
            "call_id": call_id,
            "name": part.name,
            "arguments": arguments,
        }
    content = [content_part(part, part.text)] if done else []
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def content_part(part: Part, text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text} if part.kind == "refusal" else _output_text(text)


def summary_part(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


def item_ids(parts: tuple[Part, ...]) -> list[tuple[str, str]]:
    """A fresh (item id, call id) for each part."""
    return [
        (new_id(_ID_PREFIX.get(p.kind if p.kind != "refusal" else "message", "item")), new_id("call")) for p in parts
    ]
