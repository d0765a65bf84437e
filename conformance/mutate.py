"""The self-test: mutate conformant recordings and count the mutants the checks kill.

Each operator makes a few mutants of a recording (at a quarter, half and three quarters of its
events); a mutant is killed when it gets at least one failure under the recording's profile.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from respkit.conformance.checks.families import DeltaFamily, Families
from respkit.conformance.engine import plan_for
from respkit.conformance.replay import Recording, Result, check_recording, with_operation
from respkit.conformance.schema import default_validators

POSITIONS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Mutant:
    operator: str
    body: bytes
    content_type: str | None
    status: int | None


@dataclass
class Score:
    total: int = 0
    killed: int = 0
    survivors: list[tuple[str, str]] | None = None
    #: operator -> [killed, total]
    by_operator: dict[str, list[int]] = field(default_factory=dict)
    #: how many recordings were conformant, so mutated
    baselines: int = 0

    def add(self, operator: str, killed: bool) -> None:
        self.total += 1
        self.killed += killed
        tally = self.by_operator.setdefault(operator, [0, 0])
        tally[0] += killed
        tally[1] += 1

    @property
    def share(self) -> float:
        return self.killed / self.total if self.total else 1.0


Frames = list[str]
StreamOp = Callable[[Frames, int], Frames | None]


def split_frames(body: bytes) -> Frames:
    text = body.decode("utf-8").replace("\r\n", "\n")
    return [f for f in text.split("\n\n") if f.strip()]


def join_frames(frames: Frames) -> bytes:
    """Frames back to bytes; a lone surrogate (U+DC80..U+DCFF) becomes one raw byte (how bad UTF-8 is injected)."""
    return "".join(f + "\n\n" for f in frames).encode("utf-8", "surrogateescape")


@functools.lru_cache(maxsize=4096)
def _data(frame: str) -> dict[str, Any] | None:
    """The JSON object a frame's data holds (None: not one). Operators ask for the same frames many times
    over, so each is parsed once (for one recording at a time: `_stream_mutants` empties the memo); the value
    is shared, so an operator builds a changed copy, never edits it."""
    for line in frame.split("\n"):
        if line.startswith("data:"):
            try:
                value = json.loads(line[5:].strip())
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _with_data(frame: str, data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False)
    return "\n".join(f"data: {text}" if line.startswith("data:") else line for line in frame.split("\n"))


def _json_frames(frames: Frames) -> list[int]:
    return [i for i, f in enumerate(frames) if _data(f) is not None]


def _edit(frames: Frames, pos: int, key: str, change: Callable[[Any], Any]) -> Frames | None:
    candidates = [i for i in _json_frames(frames) if key in (_data(frames[i]) or {})]
    if not candidates:
        return None
    i = candidates[min(pos, len(candidates) - 1)]
    data = _data(frames[i]) or {}
    data = {**data, key: change(data[key])}
    return [*frames[:i], _with_data(frames[i], data), *frames[i + 1 :]]


def drop_event(frames: Frames, pos: int) -> Frames | None:
    idx = _json_frames(frames)
    i = idx[pos]
    return frames[:i] + frames[i + 1 :]


def duplicate_event(frames: Frames, pos: int) -> Frames | None:
    i = _json_frames(frames)[pos]
    return [*frames[: i + 1], frames[i], *frames[i + 1 :]]


def swap_adjacent(frames: Frames, pos: int) -> Frames | None:
    idx = _json_frames(frames)
    for j in range(pos, len(idx) - 1):
        a, b = idx[j], idx[j + 1]
        if _data(frames[a]) != _data(frames[b]):
            out = list(frames)
            out[a], out[b] = out[b], out[a]
            return out
    return None


def renumber_sequence(frames: Frames, pos: int) -> Frames | None:
    if any("sequence_number" in (_data(f) or {}) for f in frames):
        return _edit(frames, pos, "sequence_number", lambda n: n + 2 if isinstance(n, int) else 0)
    i = _json_frames(frames)[pos]
    data = {**(_data(frames[i]) or {}), "sequence_number": 0}
    return [*frames[:i], _with_data(frames[i], data), *frames[i + 1 :]]


def corrupt_json(frames: Frames, pos: int) -> Frames | None:
    i = _json_frames(frames)[pos]
    return [*frames[:i], frames[i].rstrip()[:-1], *frames[i + 1 :]]


def change_output_index(frames: Frames, pos: int) -> Frames | None:
    return _edit(frames, pos, "output_index", lambda n: n + 1 if isinstance(n, int) else 1)


def delta_disagrees(frames: Frames, pos: int) -> Frames | None:
    return _edit(frames, pos, "delta", lambda d: d + "~" if isinstance(d, str) else "~")


def _terminal(frames: Frames) -> int | None:
    ends = ("response.completed", "response.incomplete", "response.failed")
    found = [i for i in _json_frames(frames) if (_data(frames[i]) or {}).get("type") in ends]
    return found[-1] if found else None


def drop_terminal(frames: Frames, pos: int) -> Frames | None:
    i = _terminal(frames)
    return None if i is None else frames[:i] + frames[i + 1 :]


def event_after_terminal(frames: Frames, pos: int) -> Frames | None:
    i = _terminal(frames)
    if i is None:
        return None
    extra = frames[_json_frames(frames)[pos]]
    return [*frames[: i + 1], extra, *frames[i + 1 :]]


def event_name_mismatch(frames: Frames, pos: int) -> Frames | None:
    i = _json_frames(frames)[pos]
    lines = [ln for ln in frames[i].split("\n") if not ln.startswith("event:")]
    return [*frames[:i], "event: response.mismatched\n" + "\n".join(lines), *frames[i + 1 :]]


def bad_utf8(frames: Frames, pos: int) -> Frames | None:
    i = _json_frames(frames)[pos]
    return [*frames[:i], frames[i].replace('"type"', '"ty\udcffpe"', 1), *frames[i + 1 :]]


def drop_done(frames: Frames, pos: int) -> Frames | None:
    done = [i for i in _json_frames(frames) if str((_data(frames[i]) or {}).get("type", "")).endswith(".done")]
    if not done:
        return None
    i = done[min(pos, len(done) - 1)]
    return frames[:i] + frames[i + 1 :]


def annotation_lost(frames: Frames, pos: int) -> Frames | None:
    """A done text part without the annotations `annotation.added` streamed for it."""
    if not any((_data(f) or {}).get("type") == "response.output_text.annotation.added" for f in frames):
        return None
    for i in _json_frames(frames):
        data = _data(frames[i]) or {}
        part = data.get("part")
        if data.get("type") == "response.content_part.done" and isinstance(part, dict) and part.get("annotations"):
            return [*frames[:i], _with_data(frames[i], {**data, "part": {**part, "annotations": []}}), *frames[i + 1 :]]
    return None


def _edit_terminal(frames: Frames, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Frames | None:
    """The terminal event's `response` changed by `change` (None: nothing to change)."""
    i = _terminal(frames)
    data = _data(frames[i]) if i is not None else None
    response = data.get("response") if data else None
    if i is None or data is None or not isinstance(response, dict):
        return None
    changed = change(dict(response))
    if changed is None:
        return None
    return [*frames[:i], _with_data(frames[i], {**data, "response": changed}), *frames[i + 1 :]]


_OTHER_STATUS = {"completed": "incomplete", "incomplete": "completed", "failed": "completed"}


def terminal_status_mismatch(frames: Frames, pos: int) -> Frames | None:
    """The terminal response's status no longer matches its event type."""
    return _edit_terminal(frames, lambda r: {**r, "status": _OTHER_STATUS.get(str(r.get("status")), "completed")})


def response_id_mismatch(frames: Frames, pos: int) -> Frames | None:
    """The terminal response carries another id than the one created."""
    return _edit_terminal(frames, lambda r: {**r, "id": f"{r.get('id')}_other"} if r.get("id") else None)


def usage_dropped(frames: Frames, pos: int) -> Frames | None:
    """A completed response without its usage."""
    return _edit_terminal(
        frames, lambda r: {k: v for k, v in r.items() if k != "usage"} if r.get("status") == "completed" else None
    )


def item_done_differs(frames: Frames, pos: int) -> Frames | None:
    """An `output_item.done` item that differs from the same item in the terminal response."""
    done = [i for i in _json_frames(frames) if (_data(frames[i]) or {}).get("type") == "response.output_item.done"]
    if not done:
        return None
    i = done[min(pos, len(done) - 1)]
    data = _data(frames[i]) or {}
    item = data.get("item")
    if not isinstance(item, dict):
        return None
    return [
        *frames[:i],
        _with_data(frames[i], {**data, "item": {**item, "id": f"{item.get('id')}_other"}}),
        *frames[i + 1 :],
    ]


# ---- operators for the event families of tools and modalities: each breaks the property its checks hold --


def _types(frames: Frames) -> list[tuple[int, str]]:
    return [(i, str((_data(frames[i]) or {}).get("type", ""))) for i in _json_frames(frames)]


def _pick(frames: Frames, candidates: list[int], pos: int) -> int | None:
    """One of `candidates` (frame indexes), spread over the stream as `pos` is over its events."""
    if not candidates:
        return None
    return candidates[min(len(candidates) - 1, pos * len(candidates) // max(1, len(_json_frames(frames))))]


def _families() -> Families:
    """The spec's event families, as the engine derives them."""
    return plan_for(default_validators()).families


#: the families every stream has; the operators below aim at the others (tools, refusals, reasoning, audio)
_COMMON = ("response.output_text", "response.function_call_arguments")


def _aimed(fam: DeltaFamily) -> bool:
    return not fam.prefix.startswith(_COMMON)


def drop_family_done(frames: Frames, pos: int) -> Frames | None:
    """A tool's, refusal's, reasoning text's or audio's value without its `.done` event."""
    deltas = _families().deltas
    done = [i for i, t in _types(frames) if t in deltas and t == deltas[t].done and _aimed(deltas[t])]
    i = _pick(frames, done, pos)
    return None if i is None else frames[:i] + frames[i + 1 :]


def corrupt_family_delta(frames: Frames, pos: int) -> Frames | None:
    """A delta of a tool's, refusal's or reasoning text's value that no longer adds up to its `.done`."""
    deltas = _families().deltas
    found = [
        i for i, t in _types(frames) if t in deltas and t == deltas[t].delta and _aimed(deltas[t]) and deltas[t].value
    ]
    i = _pick(frames, found, pos)
    if i is None:
        return None
    data = _data(frames[i]) or {}
    return [*frames[:i], _with_data(frames[i], {**data, "delta": f"{data.get('delta')}~"}), *frames[i + 1 :]]


def drop_tool_phase(frames: Frames, pos: int) -> Frames | None:
    """A tool call's `.in_progress` phase event left out."""
    phases = _families().phases
    starts = [i for i, t in _types(frames) if phases.get(t, ("", ""))[1] == "in_progress"]
    i = _pick(frames, starts, pos)
    return None if i is None else frames[:i] + frames[i + 1 :]


def tool_completed_early(frames: Frames, pos: int) -> Frames | None:
    """A tool call's `.completed` (or `.failed`) moved to right after its `.in_progress`."""
    phases = _families().phases
    typed = _types(frames)
    ends = [i for i, t in typed if phases.get(t, ("", ""))[1] in ("completed", "failed")]
    i = _pick(frames, ends, pos)
    if i is None:
        return None
    index = (_data(frames[i]) or {}).get("output_index")
    start = next((j for j, t in typed if phases.get(t, ("", ""))[1] == "in_progress" and j < i
                  and (_data(frames[j]) or {}).get("output_index") == index), None)  # fmt: skip
    if start is None or start + 1 == i:
        return None
    moved = frames[:i] + frames[i + 1 :]
    return [*moved[: start + 1], frames[i], *moved[start + 1 :]]


def drop_value_opener(frames: Frames, pos: int) -> Frames | None:
    """A value's opening `X.added` event (a shell call's command) left out."""
    openers = _families().openers
    found = [i for i, t in _types(frames) if t in openers]
    i = _pick(frames, found, pos)
    return None if i is None else frames[:i] + frames[i + 1 :]


STREAM_OPS: dict[str, StreamOp] = {
    f.__name__: f
    for f in (
        drop_event,
        duplicate_event,
        swap_adjacent,
        renumber_sequence,
        corrupt_json,
        change_output_index,
        delta_disagrees,
        drop_terminal,
        event_after_terminal,
        event_name_mismatch,
        bad_utf8,
        drop_done,
        terminal_status_mismatch,
        response_id_mismatch,
        usage_dropped,
        item_done_differs,
        annotation_lost,
        drop_family_done,
        corrupt_family_delta,
        drop_tool_phase,
        tool_completed_early,
        drop_value_opener,
    )
}
#: the operators aimed at tools, refusals, reasoning text and audio: no work on a plain text stream
FAMILY_OPS = frozenset(
    {"drop_family_done", "corrupt_family_delta", "drop_tool_phase", "tool_completed_early", "drop_value_opener"}
)


def _stream_mutants(rec: Recording) -> Iterator[Mutant]:
    _data.cache_clear()  # the frames of earlier recordings are of no more use
    frames = split_frames(rec.path.read_bytes())
    count = len(_json_frames(frames))
    if not count:
        return
    for name, op in STREAM_OPS.items():
        seen: set[bytes] = set()
        for share in POSITIONS:
            out = op(frames, min(int(count * share), count - 1))
            if out is None:
                continue
            body = join_frames(out)
            if body not in seen:
                seen.add(body)
                yield Mutant(name, body, rec.content_type, rec.status)
    if _standard(rec.content_type, "text/event-stream"):
        yield Mutant("content_type", rec.path.read_bytes(), "application/json", rec.status)


def _standard(content_type: str | None, media: str) -> bool:
    """Content type mutants only where the original is the standard one (else it is already a finding)."""
    return content_type is None or content_type.split(";")[0].strip().lower() == media


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _json_mutants(rec: Recording) -> Iterator[Mutant]:
    raw = rec.path.read_bytes()
    body = json.loads(raw)
    yield Mutant("corrupt_json", raw.rstrip()[:-1], rec.content_type, rec.status)
    if _standard(rec.content_type, "application/json"):
        yield Mutant("content_type", raw, "text/html", rec.status)
    if rec.kind == "error":
        yield from _error_mutants(rec, body)
        return
    schema = default_validators().response_schemas.get(with_operation(rec).operation or "")
    if schema != "Response":  # another operation's body (a list, a count): its own schema's members
        yield from _operation_mutants(rec, body, schema)
        return
    for key in ("id", "output", "object"):
        if key in body:
            yield Mutant(
                f"drop_{key}", _dump({k: v for k, v in body.items() if k != key}), rec.content_type, rec.status
            )
    yield Mutant("wrong_status", _dump({**body, "status": "finished"}), rec.content_type, rec.status)
    yield Mutant("wrong_type", _dump({**body, "created_at": "yesterday"}), rec.content_type, rec.status)
    usage = body.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
        yield Mutant(
            "usage_off",
            _dump({**body, "usage": {**usage, "total_tokens": usage["total_tokens"] + 1}}),
            rec.content_type,
            rec.status,
        )


#: a value of another JSON type for each type a member can have
_OTHER_TYPE: dict[type, Any] = {str: 12345, int: "many", float: "many", bool: "yes", list: {}, dict: [], type(None): []}


def _operation_mutants(rec: Recording, body: Any, schema: str | None) -> Iterator[Mutant]:
    """Mutants of a body that is not a `Response`: its schema's first required member dropped, and given a
    value of another type (none for a body the spec gives no schema, such as deleteResponse's)."""
    if schema is None or not isinstance(body, dict):
        return
    required = default_validators().lenient_doc["components"]["schemas"].get(schema, {}).get("required", [])
    key = next((k for k in required if k in body), None)
    if key is None:
        return
    yield Mutant("drop_required", _dump({k: v for k, v in body.items() if k != key}), rec.content_type, rec.status)
    other = _OTHER_TYPE.get(type(body[key]))
    yield Mutant("wrong_type", _dump({**body, key: other}), rec.content_type, rec.status)


def _error_mutants(rec: Recording, body: Any) -> Iterator[Mutant]:
    err = body.get("error") if isinstance(body, dict) else None
    yield Mutant("strip_envelope", _dump(err), rec.content_type, rec.status)
    if isinstance(err, dict):
        yield Mutant(
            "drop_message",
            _dump({"error": {k: v for k, v in err.items() if k != "message"}}),
            rec.content_type,
            rec.status,
        )
        yield Mutant("extra_member", _dump({**body, "unexpected_member": False}), rec.content_type, rec.status)
        wrong = 500 if rec.status != 500 else 401
        if rec.status is not None:
            yield Mutant("status_mismatch", rec.path.read_bytes(), rec.content_type, wrong)


def mutants(rec: Recording) -> Iterator[Mutant]:
    return _stream_mutants(rec) if rec.kind == "stream" else _json_mutants(rec)


def kill(rec: Recording, mutant: Mutant, tmp_dir: Any) -> bool:
    path = tmp_dir / rec.path.name
    path.write_bytes(mutant.body)
    original = with_operation(rec)  # the mutant answers the original's operation, whatever it now looks like
    moved = replace(original, path=path, content_type=mutant.content_type, status=mutant.status)
    return check_recording(moved).failed


def conformant(result: Result) -> bool:
    """A baseline for mutation: no failure, and a complete source (no elided or cut events)."""
    return not result.failed and not result.recording.artifacts
