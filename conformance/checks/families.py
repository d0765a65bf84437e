"""Event families derived from the spec's event type names and schemas (never a hand-written list).

- lifecycle events carry a `response` (created, in_progress, queued, completed, failed, incomplete);
  the terminal ones end in `.completed`, `.failed` or `.incomplete`;
- a delta family is a `X.delta` type with its `X.done`; the done value is the string property of the
  done event that the delta event lacks (text, arguments, refusal, code, input, ...); its key is the
  index fields the delta carries (output_index, content_index, summary_index, ...);
- a part family is `X_part.added` / `X_part.done` (content parts, reasoning summary parts);
- a phase family is a tool call's `X.in_progress` ... `X.completed` / `X.failed` events;
- a delta family may be opened by an `X.added` event (a shell call's command: `shell_call_command.added`);
- a member the spec describes as base64 (`response.audio.delta`'s `delta`, a partial image) is encoded data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TERMINAL_SUFFIXES = ("completed", "failed", "incomplete")
OPENING_SUFFIXES = ("in_progress", "queued")
INDEX_FIELDS = ("output_index", "content_index", "summary_index", "command_index")
SKIP_VALUE = {"type", "item_id", "sequence_number", "obfuscation", "logprobs", "name", "response_id"}


@dataclass(frozen=True)
class DeltaFamily:
    prefix: str
    delta: str
    done: str
    value: str | None
    keys: tuple[str, ...]
    #: the key that names a part (content_index, summary_index) when a part event frames this value
    part_field: str | None = None

    def value_key(self, event: dict[str, Any]) -> tuple[Any, ...]:
        """The key of the value an event of this family builds: the prefix, then the event's index fields."""
        return (self.prefix, *map(event.get, self.keys))


@dataclass(frozen=True)
class Families:
    lifecycle: frozenset[str]
    terminal: frozenset[str]
    opening: frozenset[str]
    created: str
    error: str
    item_added: str
    item_done: str
    deltas: dict[str, DeltaFamily]  # by delta and by done type
    parts: dict[str, str]  # added/done type -> index field
    part_added: frozenset[str]
    part_done: frozenset[str]
    phases: dict[str, tuple[str, str]]  # type -> (family prefix, phase)
    annotation: str
    item_scoped: frozenset[str]  # types that refer to an output item
    openers: dict[str, DeltaFamily] = field(default_factory=dict)  # `X.added` type -> the family it opens
    base64: dict[str, tuple[str, ...]] = field(default_factory=dict)  # type -> its base64 string members


def _props(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    props: dict[str, Any] = schemas[name].get("properties", {})
    return props


def derive(document: dict[str, Any], event_types: dict[str, str]) -> Families:
    schemas = document["components"]["schemas"]
    types = set(event_types)
    lifecycle = {t for t, n in event_types.items() if "response" in _props(schemas, n)}
    suffix = {t: t.rsplit(".", 1)[-1] for t in types}
    part_fields = {
        next((k for k in ("content_index", "summary_index") if k in _props(schemas, event_types[t])), "")
        for t in types
        if t.rpartition(".")[0].endswith("_part")
    } - {""}
    deltas: dict[str, DeltaFamily] = {}
    for t in sorted(types):
        if not t.endswith(".delta") or t[:-6] + ".done" not in types:
            continue
        prefix, done = t[:-6], t[:-6] + ".done"
        dprops, oprops = _props(schemas, event_types[t]), _props(schemas, event_types[done])
        values = [k for k, v in oprops.items() if k not in dprops and k not in SKIP_VALUE and v.get("type") == "string"]
        keys = tuple(k for k in INDEX_FIELDS if k in dprops)
        part = next((k for k in keys if k in part_fields), None)
        fam = DeltaFamily(prefix, t, done, values[0] if len(values) == 1 else None, keys, part)
        deltas[t] = deltas[done] = fam
    parts: dict[str, str] = {}
    for t in types:
        head, _, tail = t.rpartition(".")
        if head.endswith("_part") and tail in ("added", "done"):
            index = next((k for k in ("content_index", "summary_index") if k in _props(schemas, event_types[t])), "")
            parts[t] = index
    phases: dict[str, tuple[str, str]] = {}
    by_prefix: dict[str, set[str]] = {}
    for t in types - lifecycle:
        head, _, tail = t.rpartition(".")
        by_prefix.setdefault(head, set()).add(tail)
    for head, tails in by_prefix.items():
        if "in_progress" in tails and tails & {"completed", "failed"} and "delta" not in tails:
            for tail in tails:
                phases[f"{head}.{tail}"] = (head, tail)
    item_scoped = {t for t, n in event_types.items() if "output_index" in _props(schemas, n)}
    return Families(
        lifecycle=frozenset(lifecycle),
        terminal=frozenset(t for t in lifecycle if suffix[t] in TERMINAL_SUFFIXES),
        opening=frozenset(t for t in lifecycle if suffix[t] in OPENING_SUFFIXES),
        created=next((t for t in lifecycle if suffix[t] == "created"), "response.created"),
        error=next((t for t in types if "." not in t and "error" in t), "error"),
        item_added=next((t for t in types if t.endswith("output_item.added")), "response.output_item.added"),
        item_done=next((t for t in types if t.endswith("output_item.done")), "response.output_item.done"),
        deltas=deltas,
        parts=parts,
        part_added=frozenset(t for t in parts if t.endswith(".added")),
        part_done=frozenset(t for t in parts if t.endswith(".done")),
        phases=phases,
        annotation=next((t for t in types if t.endswith("annotation.added")), "response.output_text.annotation.added"),
        item_scoped=frozenset(item_scoped),
        openers={f"{fam.prefix}.added": fam for fam in deltas.values() if f"{fam.prefix}.added" in types},
        base64={t: found for t, n in event_types.items() if (found := _base64_members(_props(schemas, n)))},
    )


def _base64_members(props: dict[str, Any]) -> tuple[str, ...]:
    """The string members whose description says they hold base64 ("A chunk of Base64 encoded ...")."""
    said = re.compile(r"\bbase64\b", re.IGNORECASE)
    return tuple(k for k, v in props.items() if v.get("type") == "string" and said.search(v.get("description", "")))
