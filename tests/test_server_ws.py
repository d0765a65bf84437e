"""The WebSocket mode of /v1/responses on the reference server, through the official `openai` SDK's
`client.responses.connect()` (and the `websockets` client where the SDK cannot send what is tested)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from respkit.conformance.server import run_server
from respkit.conformance.server.ws import WsLimits

KEY = "sk-ws-test"
MODEL = "gpt-4.1-mini"
TERMINAL = ("response.completed", "response.incomplete", "response.failed", "error")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_server(api_keys={KEY}) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=base_url, api_key=KEY, max_retries=0) as c:
        yield c


def until_done(connection: Any) -> list[Any]:
    """The SDK's events of one response, through its terminal event (or an error)."""
    events = []
    for event in connection:
        events.append(event)
        if event.type in TERMINAL:
            return events
    raise AssertionError("the connection closed before the response ended")


def raw(url: str) -> ClientConnection:
    headers = {"Authorization": f"Bearer {KEY}"}
    return connect(url.replace("http://", "ws://") + "/responses", additional_headers=headers)


def answers(ws: ClientConnection, message: Any) -> list[dict[str, Any]]:
    """Send one message (an object as JSON) and read its answer up to a terminal or error event."""
    ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
    out = []
    while True:
        out.append(json.loads(ws.recv(timeout=10)))
        if out[-1]["type"] in TERMINAL:
            return out


def test_sdk_streams_a_response_over_the_websocket(client: OpenAI) -> None:
    with client.responses.connect() as connection:
        connection.response.create(model=MODEL, input="Say hello in one short sentence.")
        events = until_done(connection)
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.output_text  # the SDK's typed Response, text included
    assert not any(type(e).__name__ == "BaseModel" for e in events)  # every event parsed into its own type


def test_sequential_responses_and_a_continuation_on_one_connection(client: OpenAI) -> None:
    with client.responses.connect() as connection:
        connection.response.create(model=MODEL, input="Remember the code word heron.", store=False)
        first = until_done(connection)[-1].response
        connection.response.create(model=MODEL, input="What was it?", previous_response_id=first.id, store=False)
        second = until_done(connection)
    assert second[0].sequence_number == 0  # each response is a stream of its own
    assert second[-1].type == "response.completed"
    assert second[-1].response.previous_response_id == first.id and second[-1].response.id != first.id


def test_an_unstored_response_is_gone_after_a_reconnect(client: OpenAI) -> None:
    with client.responses.connect() as connection:
        connection.response.create(model=MODEL, input="Remember the code word heron.", store=False)
        rid = until_done(connection)[-1].response.id
    with client.responses.connect() as connection:
        connection.response.create(model=MODEL, input="What was it?", previous_response_id=rid)
        error = until_done(connection)[-1]
    assert type(error).__name__ == "ResponseWsError"
    assert (error.status, error.error.code, error.error.param) == (
        400,
        "previous_response_not_found",
        "previous_response_id",
    )


def test_a_stored_response_continues_from_another_connection(client: OpenAI) -> None:
    with client.responses.connect() as connection:
        connection.response.create(model=MODEL, input="Remember the code word heron.")
        rid = until_done(connection)[-1].response.id
    with client.responses.connect() as connection:
        connection.response.create(model=MODEL, input="What was it?", previous_response_id=rid)
        assert until_done(connection)[-1].type == "response.completed"


def test_the_sdk_raises_on_an_error_message(client: OpenAI) -> None:
    """`dispatch_events` raises on an `error` message without a handler: it must be a ResponseWsError."""
    with client.responses.connect() as connection:
        connection.response.create(model="no-such-model", input="hi")
        with pytest.raises(openai.OpenAIError, match="model_not_found"):
            connection.dispatch_events()


def test_a_wrong_key_is_refused_before_the_upgrade(base_url: str) -> None:
    bad = OpenAI(base_url=base_url, api_key="sk-wrong", max_retries=0)
    with bad, pytest.raises(InvalidStatus) as refused, bad.responses.connect():
        pass
    answer = refused.value.response
    assert answer.status_code == 401 and answer.headers["x-request-id"].startswith("req_")
    assert json.loads(answer.body)["error"]["code"] == "invalid_api_key"
    assert KEY not in answer.body.decode() and "sk-wrong" not in answer.body.decode()


def test_lanes_echo_their_stream_id_and_keep_their_order(base_url: str) -> None:
    with raw(base_url) as ws:
        for lane in ("a", "b"):
            ws.send(json.dumps({"type": "response.create", "stream_id": lane, "model": MODEL, "input": "Say hello."}))
        seen: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
        while sum(e[-1]["type"] == "response.completed" for e in seen.values() if e) < 2:
            event = json.loads(ws.recv(timeout=10))
            seen[event["stream_id"]].append(event)
    for events in seen.values():
        assert [e["sequence_number"] for e in events] == list(range(len(events)))


BAD = [
    ("not JSON", "{nope", None),
    ("an unknown event type", {"type": "response.steer", "input": "hi"}, "type"),
    ("an unknown parameter", {"type": "response.create", "model": MODEL, "input": "hi", "bogus": 1}, "bogus"),
    ("background", {"type": "response.create", "model": MODEL, "input": "hi", "background": True}, "background"),
    ("a bad stream_id", {"type": "response.create", "model": MODEL, "input": "hi", "stream_id": "a b"}, "stream_id"),
    ("a binary message", b"\x00\x01", None),
]


@pytest.mark.parametrize(("what", "message", "param"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_message_is_one_error_and_the_connection_goes_on(base_url: str, what: str, message: Any,
                                                               param: str | None) -> None:  # fmt: skip
    with raw(base_url) as ws:
        (error,) = answers(ws, message)
        after = answers(ws, {"type": "response.create", "model": MODEL, "input": "Say hello."})
    assert error["type"] == "error" and error["status"] == 400 and "sequence_number" not in error
    assert set(error["error"]) >= {"type", "code", "message", "param"} and error["error"]["param"] == param
    assert after[-1]["type"] == "response.completed"


@pytest.fixture(scope="module")
def bounded() -> Iterator[str]:
    limits = WsLimits(max_message_bytes=2000, max_streams=1, idle_timeout=0.2, max_connection_seconds=30)
    with run_server(api_keys={KEY}, ws_limits=limits) as url:
        yield url


def test_lanes_are_bounded(bounded: str) -> None:
    with raw(bounded) as ws:
        answers(ws, {"type": "response.create", "model": MODEL, "input": "hi"})
        (error,) = answers(ws, {"type": "response.create", "stream_id": "second", "model": MODEL, "input": "hi"})
    assert error["error"]["code"] == "websocket_stream_limit_reached" and error["stream_id"] == "second"


def test_a_message_over_the_bound_closes_the_connection_with_1009(bounded: str) -> None:
    with raw(bounded) as ws:
        ws.send(json.dumps({"type": "response.create", "model": MODEL, "input": "x" * 3000}))
        with pytest.raises(ConnectionClosedError) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_an_idle_connection_is_told_why_then_closed(bounded: str) -> None:
    with raw(bounded) as ws:
        error = json.loads(ws.recv(timeout=10))
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=10)
    assert (error["status"], error["error"]["code"]) == (408, "websocket_idle_timeout")


def test_a_connection_past_its_lifespan_is_told_why_then_closed() -> None:
    with run_server(api_keys={KEY}, ws_limits=WsLimits(max_connection_seconds=0.2)) as url, raw(url) as ws:
        error = json.loads(ws.recv(timeout=10))
    assert error["error"]["code"] == "websocket_connection_limit_reached"


def test_a_header_deadline_does_not_cut_an_open_websocket() -> None:
    """The HTTP protocol's header deadline (`--read-timeout`) ends with the upgrade."""
    with run_server(api_keys={KEY}, read_timeout=0.1, ws_limits=WsLimits(idle_timeout=0.5)) as url, raw(url) as ws:
        error = json.loads(ws.recv(timeout=10))  # the idle bound, not the header deadline, ends it
    assert error["error"]["code"] == "websocket_idle_timeout"


def test_the_rate_limit_counts_each_response_create() -> None:
    with run_server(api_keys={KEY}, rate_limit=1) as url, raw(url) as ws:
        first = answers(ws, {"type": "response.create", "model": MODEL, "input": "hi"})
        (limited,) = answers(ws, {"type": "response.create", "model": MODEL, "input": "hi"})
    assert first[-1]["type"] == "response.completed"
    assert (limited["status"], limited["error"]["code"]) == (429, "rate_limit_exceeded")
    assert int(limited["error"]["headers"]["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("option", "value"), [("--ws-max-streams", "0"), ("--ws-idle-timeout", "0"), ("--ws-max-message-bytes", "-1")]
)
def test_a_websocket_bound_below_its_floor_is_one_line_and_exit_2(option: str, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "respkit.conformance", "serve", "--port", "0", option, value],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and option in result.stderr


def test_an_item_reference_finds_an_unstored_response_on_its_connection_only(base_url: str) -> None:
    first = {"type": "response.create", "model": MODEL, "input": "Say hello.", "store": False}
    with raw(base_url) as ws:
        item_id = answers(ws, first)[-1]["response"]["output"][0]["id"]
        refer = {"type": "response.create", "model": MODEL, "store": False,
                 "input": [{"type": "item_reference", "id": item_id}]}  # fmt: skip
        same = answers(ws, refer)
    with raw(base_url) as ws:
        (gone,) = answers(ws, refer)
    assert same[-1]["type"] == "response.completed"
    assert (gone["status"], gone["error"]["param"]) == (400, "input")
