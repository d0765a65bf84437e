"""How the local model splits text into tokens: a token is a word with the whitespace before it.

`"".join(tokens(text)) == text` always holds, so streamed deltas add up to the final text."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\s*\S+|\s+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokens(text))


def chunks(text: str, size: int) -> list[str]:
    """Fixed-size pieces (used for function-call arguments, which have no spaces to split on)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def texts_of(node: Any) -> list[str]:
    """Every text a request's input carries: strings, `text`, `output` and `arguments` fields, in order."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for item in node for t in texts_of(item)]
    if isinstance(node, dict):
        found: list[str] = []
        for key in ("content", "text", "output", "arguments", "refusal"):
            if key in node:
                found.extend(texts_of(node[key]))
        return found
    return []
