"""A value read is the value sent: every recording of the shared corpus, read into the generated models as the
client reads it (a body as its operation's model, an event as its event model or `UnknownEvent`, an error body
as `ErrorResponse` or `NotAnErrorEnvelope`), gives back the same JSON value when dumped: the same members,
the same strings (a URL is not normalised), null where null was sent, numbers of the same value (an integer
stays an integer where the spec allows any number). One tolerance, where a provider breaks the spec's type:
Bedrock's `created_at: 1787150056.0` reads as the integer the spec says, the same number.

The client's streams give the events as they were sent too: the accumulator completes its own copy of a
terminal response, never the event's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from respkit import generated
from respkit.conformance.operations import infer
from respkit.generated import ResponseStream, models
from respkit.generator.spec_view import Operation, operations
from tests.paths import REPO, corpus_files

BUNDLE: dict[str, Any] = json.loads((REPO / "generated" / "schema.json").read_text(encoding="utf-8"))
OPERATIONS: dict[str, Operation] = {op.operation_id: op for op in operations(BUNDLE)}


def _kind(value: Any) -> str:
    """A JSON value's type: null, boolean, number, string, array or object."""
    if value is None or isinstance(value, bool):
        return repr(value)[:4].lower() if value is None else "boolean"
    return {int: "number", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def differences(read: Any, sent: Any, at: str = "") -> list[str]:
    """Where two JSON values differ (numbers compare by value; `1` and `1.0` differ only in kind)."""
    if _kind(read) != _kind(sent):
        return [f"{at or '/'}: read {read!r:.60}, sent {sent!r:.60}"]
    if isinstance(sent, dict):
        missing = [f"{at}/{k}: {'not read' if k not in read else 'not sent'}" for k in read.keys() ^ sent.keys()]
        return missing + [d for k in read.keys() & sent.keys() for d in differences(read[k], sent[k], f"{at}/{k}")]
    if isinstance(sent, list):
        if len(read) != len(sent):
            return [f"{at}: {len(read)} items read, {len(sent)} sent"]
        return [d for i, (r, s) in enumerate(zip(read, sent, strict=True)) for d in differences(r, s, f"{at}/{i}")]
    if read != sent:
        return [f"{at or '/'}: read {read!r:.60}, sent {sent!r:.60}"]
    if isinstance(read, float) != isinstance(sent, float) and not (isinstance(sent, float) and sent.is_integer()):
        return [f"{at or '/'}: read {read!r}, sent {sent!r}"]
    return []


def dumped(model: Any) -> Any:
    if isinstance(model, generated.NotAnErrorEnvelope):
        return model.raw
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings="error")


def _payloads(text: str) -> list[str]:
    return [line[5:].strip() for line in text.splitlines() if line.startswith("data:") and line[5:].strip() != "[DONE]"]


def _body_model(body: Any) -> type[Any] | None:
    operation = OPERATIONS[str(infer(body).operation)]
    return getattr(models, operation.response_schema) if operation.response_schema else None


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_recording_reads_back_as_it_was_sent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    pairs: list[tuple[Any, Any]]
    if path.name.endswith(".error.json"):
        pairs = [(generated.parse_error(text), json.loads(text))]
    elif path.suffix == ".json":
        model = _body_model(json.loads(text))
        if model is None:
            pytest.skip("the spec gives this operation's answer no body (delete): the client does not read it")
        pairs = [(model.model_validate_json(text), json.loads(text))]
    else:
        pairs = [(generated.parse_event(payload), json.loads(payload)) for payload in _payloads(text)]
    found = [d for read, sent in pairs for d in differences(dumped(read), sent)]
    assert not found, found[:5]


@pytest.mark.parametrize(
    "path", [p for p in corpus_files() if p.suffix == ".sse"], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_a_stream_gives_its_events_as_they_were_sent(path: Path) -> None:
    body = path.read_bytes()
    response = httpx.Response(200, stream=httpx.ByteStream(body), headers={"content-type": "text/event-stream"})
    read: list[Any] = []
    sent = [json.loads(p) for p in _payloads(body.decode("utf-8"))]
    try:
        read.extend(dumped(event) for event in ResponseStream(response))
    except generated.APIStreamError:  # an error event ends the stream: the events before it are compared
        sent = sent[: len(read)]
    assert read and len(read) == len(sent)
    found = [d for r, s in zip(read, sent, strict=True) for d in differences(r, s)]
    assert not found, found[:5]


def test_a_url_reads_as_sent() -> None:
    citation = {"type": "url_citation", "url": "https://example.com", "title": "t", "start_index": 0, "end_index": 1}
    part = {"type": "output_text", "text": "x", "annotations": [citation]}
    read = models.OutputTextContent.model_validate(part)
    assert read.annotations[0].url == "https://example.com"  # type: ignore[union-attr]
    assert dumped(read) == part
