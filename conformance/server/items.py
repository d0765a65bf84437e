"""Items: a request's input as stored item resources, and the model's output parts as output items."""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass
from typing import Any

from respkit.conformance.server.conversation import Resolver, is_reference
from respkit.conformance.server.ids import new_id
from respkit.conformance.server.modalities import reasoning_text_item
from respkit.conformance.server.model import Part
from respkit.conformance.server.tools_hosted import ID_PREFIXES, ITEMS

_ID_PREFIX = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
    "web_search_call": "ws",
    "custom_tool_call": "ctc",
    "file_search_call": "fs",
    "custom_tool_call_output": "ctco",
    "reasoning_text": "rs",
    **ID_PREFIXES,
}


@dataclass(frozen=True)
class Include:
    """What the request's `include` (with `top_logprobs`) adds to the output."""

    #: `message.output_text.logprobs`: each token's logprob, with this many alternatives (`top_logprobs`)
    logprobs: int | None = None
    #: `reasoning.encrypted_content`: reasoning items carry an opaque `encrypted_content`
    encrypted_reasoning: bool = False
    #: `code_interpreter_call.outputs`: a finished code interpreter call lists its outputs (else null)
    code_outputs: bool = False

    @classmethod
    def of(cls, request: dict[str, Any]) -> Include:
        asked = request.get("include") or []
        top = request.get("top_logprobs")
        return cls(
            logprobs=(top if isinstance(top, int) else 0) if "message.output_text.logprobs" in asked else None,
            encrypted_reasoning="reasoning.encrypted_content" in asked,
            code_outputs="code_interpreter_call.outputs" in asked,
        )


NOTHING = Include()


def _logprob(token: str, rank: int) -> float:
    """A made-up log probability: the chosen token (rank 0) is the likeliest, each alternative less likely."""
    return -round((zlib.crc32(token.encode()) % 1000) / 10_000 + 1.5 * rank, 4)


def _candidates(token: str, count: int) -> list[str]:
    """The chosen token, then alternatives to it: `count` tokens in all."""
    return [token, *(f"{token}{k}" for k in range(1, count))][:count]


def delta_logprobs(token: str, top: int) -> list[dict[str, Any]]:
    """A delta's logprobs (`ResponseLogProb`): the one token it adds."""
    alternatives = [{"token": t, "logprob": _logprob(token, k)} for k, t in enumerate(_candidates(token, top))]
    return [{"token": token, "logprob": _logprob(token, 0), "top_logprobs": alternatives}]


def text_logprobs(tokens: tuple[str, ...], top: int) -> list[dict[str, Any]]:
    """An output_text part's logprobs (`LogProb`, with the tokens' UTF-8 bytes)."""
    return [
        {
            "token": token,
            "logprob": _logprob(token, 0),
            "bytes": list(token.encode()),
            "top_logprobs": [
                {"token": t, "logprob": _logprob(token, k), "bytes": list(t.encode())}
                for k, t in enumerate(_candidates(token, top))
            ],
        }
        for token in tokens
    ]


def _output_text(
    text: str, logprobs: list[dict[str, Any]] | None = None, annotations: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": list(annotations), "logprobs": logprobs or []}


def _stored_part(part: Any) -> Any:
    """A content part as stored: an input image sent without `detail` has the default, `auto`."""
    if isinstance(part, dict) and part.get("type") == "input_image" and "detail" not in part:
        return {**part, "detail": "auto"}
    return part


def _content_list(content: Any, role: str) -> list[dict[str, Any]]:
    """A message's content as stored. An assistant's holds only `output_text` and `refusal` parts (the
    server refuses any other, as OpenAI does), each `output_text` with its `annotations` and `logprobs`."""
    if role == "assistant":
        if isinstance(content, str):
            return [_output_text(content)]
        return [{**_output_text(""), **p} if p.get("type") == "output_text" else p for p in content]
    return [{"type": "input_text", "text": content}] if isinstance(content, str) else [_stored_part(p) for p in content]


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
    if kind in ("function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output"):
        out.setdefault("status", "completed")
    return out


def input_items(value: Any, resolve: Resolver | None = None) -> list[dict[str, Any]]:
    """The request's `input` as items; an `item_reference` is the stored item it names (`resolve`: by id,
    a 400 for an unknown one; None: references are left out, for counting tokens of what was sent)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [_message({"role": "user", "content": value})]
    items = [i for i in value if isinstance(i, dict)]
    if resolve is None:
        return [input_item(i) for i in items if not is_reference(i)]
    return [resolve(i.get("id")) if is_reference(i) else input_item(i) for i in items]


def output_item(part: Part, item_id: str, call_id: str, done: bool, include: Include = NOTHING) -> dict[str, Any]:
    """The output item for `part`: as announced (`done=False`, empty) or as finished."""
    if part.kind in ITEMS:
        return ITEMS[part.kind](part, item_id, call_id, done, include.code_outputs)
    if part.kind == "reasoning_text":
        return reasoning_text_item(part, item_id, done)
    status = ("completed" if part.complete else "incomplete") if done else "in_progress"
    if part.kind == "reasoning":
        item = {"id": item_id, "type": "reasoning", "summary": [summary_part(part.text)] if done else []}
        if done and include.encrypted_reasoning:
            item["encrypted_content"] = _sealed(item_id, part.text)
        return item
    if part.kind == "web_search_call":
        action: dict[str, Any] = {"type": "search"}
        if done:
            action.update(query=part.name, queries=[part.name])
        return {"id": item_id, "type": "web_search_call", "status": status, "action": action}
    if part.kind == "file_search_call":
        queries = [part.name] if done else []
        return {"id": item_id, "type": "file_search_call", "status": status, "queries": queries, "results": None}
    if part.kind == "custom_tool_call":
        return {
            "id": item_id,
            "type": "custom_tool_call",
            "status": status,
            "call_id": call_id,
            "name": part.name,
            "input": part.text if done else "",
        }
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
    content = [content_part(part, done=True, include=include)] if done else []
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def content_part(part: Part, done: bool, include: Include = NOTHING) -> dict[str, Any]:
    """A message's content part: as added (empty) or as done (its text, and logprobs if included)."""
    text = part.text if done else ""
    if part.kind == "refusal":
        return {"type": "refusal", "refusal": text}
    logprobs = text_logprobs(part.pieces, include.logprobs) if done and include.logprobs is not None else None
    return _output_text(text, logprobs, part.annotations if done else ())


def _sealed(item_id: str, text: str) -> str:
    """An opaque stand-in for OpenAI's encrypted reasoning (the same shape: a url-safe base64 token)."""
    digest = hashlib.sha256(f"{item_id}\n{text}".encode()).digest()
    return "gAAAAAB" + base64.urlsafe_b64encode(digest * 3).decode().rstrip("=")


def summary_part(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


def item_ids(parts: tuple[Part, ...]) -> list[tuple[str, str]]:
    """A fresh (item id, call id) for each part."""
    return [
        (new_id(_ID_PREFIX.get(p.kind if p.kind != "refusal" else "message", "item")), new_id("call")) for p in parts
    ]
