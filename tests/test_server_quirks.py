"""Each quirk mode shows its documented deviation, and only that: outputs are compared with the faithful
default after ids and timestamps (which differ between any two responses) are normalised."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from respkit.conformance.server import QUIRKS, run_server
from respkit.conformance.server.selfcheck import Frame, frames

KEY = {"Authorization": "Bearer sk-test"}
STREAM = {"model": "gpt-4.1", "input": "Hello quirks", "stream": True}
PLAIN = {"model": "gpt-4.1", "input": "Hello quirks"}
_ID = re.compile(r"\b(?:resp|msg|rs|fc|call|chatcmpl|cmp)_[0-9a-f]{48}\b")
_TIMES = ("created_at", "completed_at", "created")


def normalise(value: Any, names: dict[str, str] | None = None) -> Any:
    """Ids become `ID0`, `ID1`... in order of appearance; timestamps become 0."""
    names = {} if names is None else names
    if isinstance(value, dict):
        return {k: 0 if k in _TIMES and isinstance(v, int) else normalise(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, names) for v in value]
    if isinstance(value, str):
        return _ID.sub(lambda m: names.setdefault(m.group(0), f"ID{len(names)}"), value)
    return value


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str | None, httpx.Client]]:
    with ExitStack() as stack:
        clients: dict[str | None, httpx.Client] = {}
        for name in [None, *QUIRKS]:
            url = stack.enter_context(run_server(quirks=name))
            clients[name] = stack.enter_context(httpx.Client(base_url=url, headers=KEY, timeout=30))
        yield clients


def stream(client: httpx.Client) -> tuple[httpx.Response, list[Frame], list[dict[str, Any]]]:
    response = client.post("/responses", json=STREAM)
    parsed = frames(response.text)
    events = [normalise(f.json()) for f in parsed if f.data and f.data != "[DONE]"]
    return response, parsed, events


def test_every_quirk_is_listed_with_what_it_changes() -> None:
    from respkit.conformance.server.quirks import describe

    listing = describe()
    for quirk in QUIRKS.values():
        assert quirk.changes and quirk.seen_in
        assert quirk.name in listing


def test_default_mode_is_the_reference(servers: dict[str | None, httpx.Client]) -> None:
    response, parsed, events = stream(servers[None])
    assert response.headers["content-type"].startswith("text/event-stream")
    assert all(f.event == e["type"] for f, e in zip(parsed, events, strict=True))
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


@pytest.mark.parametrize("name", ["out-of-order", "no-terminal", "repeated-sequence", "bad-deltas", "4allapi"])
def test_quirks_that_leave_json_bodies_and_errors_alone(servers: dict[str | None, httpx.Client], name: str) -> None:
    default, quirky = servers[None], servers[name]
    assert normalise(quirky.post("/responses", json=PLAIN).json()) == normalise(
        default.post("/responses", json=PLAIN).json()
    )
    assert quirky.get("/responses/resp_x").json() == default.get("/responses/resp_x").json()


def test_acedata(servers: dict[str | None, httpx.Client]) -> None:
    _, _, expected = stream(servers[None])
    response, parsed, events = stream(servers["acedata"])
    assert response.headers["content-type"].startswith("text/event-stream")
    assert all(f.event is None for f in parsed)
    assert all(e.pop("model") == "gpt-4.1" for e in events)
    for event in events:
        if "response" in event:
            assert event["response"].pop("content_filters") is None
    assert events == expected
    body = servers["acedata"].post("/responses", json=PLAIN).json()
    assert body.pop("content_filters") is None
    assert normalise(body) == normalise(servers[None].post("/responses", json=PLAIN).json())
    error = servers["acedata"].get("/responses/resp_x")
    assert error.status_code == 404
    payload = error.json()
    assert payload["success"] is False and set(payload) == {"success", "error", "trace_id"}
    assert payload["error"] == {"code": "api_not_implemented", "message": "Response with id 'resp_x' not found."}
    anonymous = servers["acedata"].get("/responses/resp_x", headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "invalid_token"


def test_4allapi_drops_sequence_numbers_only(servers: dict[str | None, httpx.Client]) -> None:
    _, _, expected = stream(servers[None])
    _, parsed, events = stream(servers["4allapi"])
    assert all("sequence_number" not in e for e in events)
    assert all(f.event == e["type"] for f, e in zip(parsed, events, strict=True))
    assert events == [{k: v for k, v in e.items() if k != "sequence_number"} for e in expected]


def test_openrouter_framing(servers: dict[str | None, httpx.Client]) -> None:
    _, _, expected = stream(servers[None])
    _, parsed, events = stream(servers["openrouter"])
    assert parsed[0] == Frame(None, "", ("OPENROUTER PROCESSING",))
    assert parsed[-1] == Frame(None, "[DONE]")
    assert all(f.event is None for f in parsed)
    assert events == expected
    assert normalise(servers["openrouter"].post("/responses", json=PLAIN).json()) == normalise(
        servers[None].post("/responses", json=PLAIN).json()
    )


def test_chat_completions_answers_with_a_chat_completion(servers: dict[str | None, httpx.Client]) -> None:
    reference = servers[None].post("/responses", json=PLAIN).json()
    for body in (PLAIN, STREAM):
        response = servers["chat-completions"].post("/responses", json=body)
        assert response.headers["content-type"] == "application/json"
        completion = response.json()
        assert completion["object"] == "chat.completion"
        assert completion["choices"][0]["message"] == {
            "role": "assistant",
            "content": reference["output"][0]["content"][0]["text"],
        }
        assert completion["choices"][0]["finish_reason"] == "stop"
    assert servers["chat-completions"].get("/responses/resp_x").json() == servers[None].get("/responses/resp_x").json()


def test_out_of_order_swaps_one_pair(servers: dict[str | None, httpx.Client]) -> None:
    _, _, expected = stream(servers[None])
    _, _, events = stream(servers["out-of-order"])
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    strip = [{k: v for k, v in e.items() if k != "sequence_number"} for e in events]
    want = [{k: v for k, v in e.items() if k != "sequence_number"} for e in expected]
    moved = [i for i, (a, b) in enumerate(zip(strip, want, strict=True)) if a != b]
    assert len(moved) == 2 and moved[1] == moved[0] + 1
    assert strip[moved[0]] == want[moved[1]] and strip[moved[1]] == want[moved[0]]
    assert want[moved[0]]["type"] == "response.output_item.added"


def test_no_terminal_drops_only_the_terminal_event(servers: dict[str | None, httpx.Client]) -> None:
    _, _, expected = stream(servers[None])
    _, _, events = stream(servers["no-terminal"])
    assert expected[-1]["type"] == "response.completed"
    assert events == expected[:-1]


def test_repeated_sequence_repeats_one_number(servers: dict[str | None, httpx.Client]) -> None:
    _, _, expected = stream(servers[None])
    _, _, events = stream(servers["repeated-sequence"])
    numbers = [e["sequence_number"] for e in events]
    assert numbers[:4] == [0, 1, 2, 2] and numbers[4:] == list(range(3, len(events) - 1))
    assert [{**e, "sequence_number": 0} for e in events] == [{**e, "sequence_number": 0} for e in expected]


def test_bad_deltas_spoil_one_delta(servers: dict[str | None, httpx.Client]) -> None:
    _, _, expected = stream(servers[None])
    _, _, events = stream(servers["bad-deltas"])
    differing = [(a, b) for a, b in zip(events, expected, strict=True) if a != b]
    assert len(differing) == 1
    spoiled, right = differing[0]
    assert spoiled["type"] == "response.output_text.delta" and spoiled["delta"] == right["delta"][:-1]


def test_wrong_content_type_changes_only_the_header(servers: dict[str | None, httpx.Client]) -> None:
    _, reference_frames, expected = stream(servers[None])
    response, parsed, events = stream(servers["wrong-content-type"])
    assert response.headers["content-type"] == "application/json"
    assert events == expected and [f.event for f in parsed] == [f.event for f in reference_frames]


def test_bare_error_drops_the_envelope_only(servers: dict[str | None, httpx.Client]) -> None:
    for path in ("/responses/resp_x", "/nowhere"):
        reference = servers[None].get(path)
        bare = servers["bare-error"].get(path)
        assert bare.status_code == reference.status_code
        assert bare.json() == reference.json()["error"]
    _, _, expected = stream(servers[None])
    assert stream(servers["bare-error"])[2] == expected
