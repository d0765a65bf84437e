"""`POST /responses/compact`: user messages are kept, everything else is sealed into one compaction item."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from respkit.conformance.server.ids import new_id
from respkit.conformance.server.record import usage_object

Item = dict[str, Any]


def _sealed(items: list[Item]) -> Item:
    content = base64.b64encode(json.dumps(items).encode()).decode()
    return {"type": "compaction", "id": new_id("cmp"), "encrypted_content": content}


def compacted(items: list[Item], input_tokens: int) -> dict[str, Any]:
    """The `response.compaction` object for a conversation's items."""
    kept = [i for i in items if i.get("type", "message") == "message" and i.get("role") == "user"]
    rest = [i for i in items if i not in kept]
    return {
        "id": new_id("resp"),
        "object": "response.compaction",
        "output": [*kept, _sealed(rest)],
        "created_at": int(time.time()),
        "usage": usage_object(input_tokens, 0, 0),
    }
