"""How the reference model's answer is shaped by the kind of model asked: open-weight models reason in raw
text, audio models speak.

- A `gpt-oss` model's reasoning item holds its raw chain of thought as a `reasoning_text` content part, not
  a summary, streamed as `response.reasoning_text.delta` / `.done` inside `content_part.added` / `.done`
  (as providers serving gpt-oss and DeepSeek stream it: deepseek/text_reasoning_stream.sse,
  openrouter/raw_reasoning_stream_gpt-oss-20b.sse; OpenAI serves no such model).
- A model with `audio` in its name (`gpt-4o-audio-preview`) also speaks its answer: after
  `response.in_progress`, each token of the answer is a `response.audio.transcript.delta` and a
  `response.audio.delta` (base64 audio bytes), then `response.audio.done` and `response.audio.transcript.done`,
  each naming the response (`response_id`), as the spec's audio events do; the message carries the transcript.
  No recording shows these events: the order is the spec's, deltas before their done.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator
from typing import Any

from respkit.conformance.server.model import Part
from respkit.conformance.server.text import tokens

Event = dict[str, Any]
#: audio bytes per transcript token (16-bit mono PCM: 20 samples)
AUDIO_BYTES = 40


def reasons_in_text(model: str) -> bool:
    return bool(re.match(r"gpt-oss(?:[-.]|$)", model))


def speaks(model: str) -> bool:
    return "audio" in model


def raw_reasoning(text: str) -> Part:
    return Part("reasoning_text", tuple(tokens(f"The user wrote: {text[:80]}. I answer that.")))


def reasoning_text_item(part: Part, item_id: str, done: bool) -> dict[str, Any]:
    content = [{"type": "reasoning_text", "text": part.text}] if done else []
    return {"id": item_id, "type": "reasoning", "summary": [], "content": content}


def reasoning_text_events(part: Part, where: dict[str, Any]) -> Iterator[Event]:
    at = {**where, "content_index": 0}
    yield {"type": "response.content_part.added", **at, "part": {"type": "reasoning_text", "text": ""}}
    for piece in part.pieces:
        yield {"type": "response.reasoning_text.delta", **at, "delta": piece}
    yield {"type": "response.reasoning_text.done", **at, "text": part.text}
    yield {"type": "response.content_part.done", **at, "part": {"type": "reasoning_text", "text": part.text}}


def _sound(token: str) -> str:
    """Made-up audio for a token: deterministic bytes, base64 as the spec's `delta` carries them."""
    seed = zlib.crc32(token.encode())
    return base64.b64encode(bytes((seed >> (i % 4 * 8)) & 0xFF for i in range(AUDIO_BYTES))).decode()


def audio_events(response_id: str, parts: tuple[Part, ...]) -> Iterator[Event]:
    """The spoken answer: the messages' tokens as transcript and audio deltas, then the two done events."""
    said = [piece for part in parts if part.kind == "message" for piece in part.pieces]
    at = {"response_id": response_id}
    for piece in said:
        yield {"type": "response.audio.transcript.delta", **at, "delta": piece}
        yield {"type": "response.audio.delta", **at, "delta": _sound(piece)}
    yield {"type": "response.audio.done", **at}
    yield {"type": "response.audio.transcript.done", **at}
