"""`respkit check --transport ws`: the live scenarios of OpenAI's WebSocket mode of `/v1/responses`.

The client speaks as the official SDK does (`client.responses.connect()`): a WebSocket to the base URL's
`/responses` (http -> ws, https -> wss) with the key in `Authorization`, one `response.create` text
message per response. What arrives for a response (its messages up to its terminal event, or up to an
`error` message that has no `sequence_number`, which ends nothing but the message that caused it) is
one exchange:

- each message is checked on its own (`ws_message_is_json`: one text message, one JSON object with a
  string `type`; `ws_error_shape`: an `error` message is a `ResponseWsError`; `ws_stream_id_echoed`);
- the events go through the engine as a stream's events do (schema, order, reconciliation), written as
  the frames of an SSE stream without `stream_id` (which only the WebSocket wrappers define) and, for an
  `error` event of the stream, without the envelope's `status`. That stream is also the exchange's body,
  so reports, coverage and the scenarios read it as they read an HTTP stream.

The `ResponseWsError` shape is checked here, member by member, because respkit's bundle of the spec
holds the HTTP schemas only (the spec's WebSocket schemas are reached by no path)."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from respkit.conformance.limits import option, size
from respkit.conformance.live.scenarios import KEYLESS, SCENARIOS, Conversation, ScenarioFunc, body_of, scenario
from respkit.conformance.live.session import WRONG_KEY, Exchange, KeyRefused, Unreachable
from respkit.conformance.redaction import redact

TERMINAL = ("response.completed", "response.incomplete", "response.failed")
#: the scenarios that speak the WebSocket mode (`--transport ws`); the others speak HTTP
WS_NAMES: set[str] = set()
Received = str | bytes


def ws_scenario(func: ScenarioFunc) -> ScenarioFunc:
    WS_NAMES.add(func.__name__)
    return scenario(func)


def for_transport(transport: str) -> list[str]:
    """The scenario names a transport runs (`http`, `ws` or `both`), in their order."""
    if transport == "both":
        return list(SCENARIOS)
    return [name for name in SCENARIOS if (name in WS_NAMES) == (transport == "ws")]


def ws_url(base_url: str) -> str:
    """Where the SDK connects for a base URL: its scheme made ws(s), `/responses` appended."""
    scheme, rest = base_url.rstrip("/").split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/responses"


@dataclass
class Socket:
    """One WebSocket connection of a scenario; each `create` or `send` is one exchange."""

    c: Conversation
    auth: bool | str = True
    _ws: ClientConnection | None = None
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = ws_url(self.c.session.base_url)

    def __enter__(self) -> Socket:
        self._ws = self._connect()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ws is not None:
            self._ws.close()

    def _headers(self) -> dict[str, str]:
        key = self.c.session.api_key if self.auth is True else self.auth
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _connect(self) -> ClientConnection:
        session = self.c.session
        try:
            return connect(
                self.url, additional_headers=self._headers(), open_timeout=min(session.timeout, 10.0),
                max_size=session.limits.max_stream_bytes, user_agent_header=None,
            )  # fmt: skip
        except InvalidStatus as refused:
            answer = refused.response
            raise _Refused(answer.status_code, dict(answer.headers), answer.body) from None
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise Unreachable(redact(f"cannot open a WebSocket to {self.url}: {type(exc).__name__}")) from None

    def create(self, stream_id: str | None = None, **body: Any) -> Exchange:
        event = {"type": "response.create", "model": self.c.model, **body}
        if stream_id is not None:
            event["stream_id"] = stream_id
        return self.send(json.dumps(event), stream_id)

    def send(self, text: str, stream_id: str | None = None) -> Exchange:
        """Send one text message and read what answers it, as one exchange."""
        self._send(text)
        arrival = self._answer(1)
        reproduce = self.reproduce(text)
        return self._exchange(_request(text), arrival.messages, reproduce, stream_id, arrival)

    def lanes(self, bodies: dict[str, dict[str, Any]]) -> dict[str, Exchange]:
        """One `response.create` per lane (`stream_id`), all sent at once, read until each response ended:
        an exchange per lane of the messages that name it; a message naming none of them is a finding."""
        texts = {lane: json.dumps({"type": "response.create", "model": self.c.model, **body, "stream_id": lane})
                 for lane, body in bodies.items()}  # fmt: skip
        for text in texts.values():
            self._send(text)
        arrival = self._answer(len(texts))
        routed = {lane: [m for m in arrival.messages if _lane_of(m) == lane] for lane in texts}
        out = {lane: self._exchange(_request(text), routed[lane], self.reproduce(text), lane, arrival)
               for lane, text in texts.items()}  # fmt: skip
        stray = [m for m in arrival.messages if _lane_of(m) not in texts]
        if stray:
            first = next(iter(out.values()))
            self.c.findings.append(first.failure(
                "ws_stream_id_echoed", f"{len(stray)} messages name none of the lanes sent", expected=list(texts),
                received=_text(stray[0])[:200]))  # fmt: skip
        return out

    def _send(self, text: str) -> None:
        assert self._ws is not None, "use Socket as a context manager"
        try:
            self._ws.send(text)
        except ConnectionClosed:
            raise GaveUp(f"the connection to {self.url} was closed before this message could be sent") from None

    def _answer(self, responses: int) -> Reading:
        """The messages up to the end of `responses` responses; a cut one gives the connection up (what
        comes later may still belong to it)."""
        assert self._ws is not None, "use Socket as a context manager"
        arrival = Reading(self, responses)
        arrival.read(self._ws)
        if arrival.cut is not None:
            self._ws.close()
        return arrival

    def reproduce(self, text: str) -> str:
        auth = f"-H 'Authorization: Bearer {WRONG_KEY}' " if isinstance(self.auth, str) else ""
        if self.auth is True:
            auth = f'-H "Authorization: Bearer ${self.c.session.key_env}" '
        return redact(f"echo {shlex.quote(text)} | websocat {auth}{self.url}", self.c.session.api_key)

    def _exchange(
        self, request: Any, messages: list[Received], reproduce: str, stream_id: str | None, arrival: Reading
    ) -> Exchange:
        events = [e for e in map(_event, messages) if e is not None]
        streamed = [e for e in events if not _protocol_error(e)]
        body = _as_sse(streamed) if streamed else "\n".join(map(_text, messages)).encode()
        exchange = Exchange(self.c.name, "createResponse", "GET", "/responses", request,
                            101 if streamed else _status(events), {}, body, reproduce,
                            "stream" if streamed else "error", bound=arrival.bound, cut=arrival.cut)  # fmt: skip
        self._findings(exchange, messages, events, stream_id)
        return _kept(self.c, exchange)

    def _findings(self, exchange: Exchange, messages: list[Received], events: list[dict[str, Any]],
                  stream_id: str | None) -> None:  # fmt: skip
        checker = self.c.session.stream_checker
        exchange.findings = checker(exchange, iter([exchange.body])) if checker and exchange.kind == "stream" else []
        for check in (_framing(messages), _error_shapes(events), _echoed(events, stream_id)):
            self.c.findings += [exchange.failure(n, msg, expected=exp, received=got) for n, msg, exp, got in check]


class GaveUp(Exception):
    """The scenario cannot go on: its connection closed (the runner reports it as `scenario_completes`)."""


class _Refused(Exception):
    """The upgrade was answered with an HTTP status other than 101."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes | None) -> None:
        super().__init__(status)
        self.status, self.headers, self.body = status, {k.lower(): v for k, v in headers.items()}, body or b""


@dataclass
class Reading:
    """The messages that answer one sent message, within the run's bounds (a stream's bytes and seconds,
    the wait for each message, the run's deadline)."""

    socket: Socket
    #: the responses whose ends end the reading
    responses: int = 1
    messages: list[Received] = field(default_factory=list)
    bound: str | None = None
    #: why the answer stopped before its end (no message within the wait, or the connection closed)
    cut: str | None = None
    count: int = 0
    size: int = 0
    started: float = field(default_factory=time.monotonic)

    def read(self, ws: ClientConnection) -> None:
        ended = 0
        for message in self._messages(ws):
            self.messages.append(message)
            ended += self._ends(message)
            if ended >= self.responses:
                return

    def _messages(self, ws: ClientConnection) -> Iterator[Received]:
        session = self.socket.c.session
        while self.bound is None:
            try:
                message = ws.recv(timeout=max(min(session.timeout, session._left()), 0.001))
            except TimeoutError:
                self._stalled()
                return
            except ConnectionClosed as closed:
                self.cut = f"the connection closed ({closed.rcvd or 'no close frame'}) after {self.count} messages"
                return
            self._take(message)
            yield message

    def _take(self, message: Received) -> None:
        limits, session = self.socket.c.session.limits, self.socket.c.session
        self.size += len(message)
        self.count += 1
        took = time.monotonic() - self.started
        if self.size > limits.max_stream_bytes:
            self.bound = f"{option('max_stream_bytes')} {size(self.size)}: the stream was cut there"
        elif took > limits.max_stream_seconds:
            self.bound = f"{option('max_stream_seconds')} {limits.max_stream_seconds:g}: the stream was cut"
        elif session._left() <= 0:
            raise session.past_deadline("GET", "/responses (WebSocket)")

    def _stalled(self) -> None:
        """No message within `timeout`: past the deadline, the run ends; an answer that began and stopped
        without its end is cut (a finding); nothing at all ends the run as unreachable."""
        session = self.socket.c.session
        if session._left() <= 0:
            raise session.past_deadline("GET", "/responses (WebSocket)")
        stalled = f"{self.socket.url} sent nothing for {session.timeout:g} s after {self.size} bytes"
        if not self.count:
            raise Unreachable(redact(stalled, session.api_key))
        self.cut = f"no message for {session.timeout:g} s after {self.count}, and no terminal event"

    @staticmethod
    def _ends(message: Received) -> bool:
        event = _event(message)
        return event is not None and (event.get("type") in TERMINAL or _protocol_error(event))


def _kept(c: Conversation, exchange: Exchange) -> Exchange:
    """The exchange, kept by the session as its HTTP exchanges are (the runner finds it by scenario)."""
    c.session.exchanges.append(exchange)
    return exchange


def _lane_of(message: Received) -> Any:
    return (_event(message) or {}).get("stream_id")


def _request(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _text(message: Received) -> str:
    return message if isinstance(message, str) else message.decode("utf-8", "replace")


def _event(message: Received) -> dict[str, Any] | None:
    """The message's JSON object with a string `type` (None: not one)."""
    if not isinstance(message, str):
        return None
    try:
        event = json.loads(message)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("type"), str) else None


def _protocol_error(event: dict[str, Any]) -> bool:
    """An `error` about a message (no `sequence_number`), not an event of a response's stream."""
    return event.get("type") == "error" and "sequence_number" not in event


def _status(events: list[dict[str, Any]]) -> int:
    status = next((e.get("status") for e in events if e.get("type") == "error"), None)
    return status if isinstance(status, int) else 0


def _as_sse(events: list[dict[str, Any]]) -> bytes:
    """The events as the frames of an SSE stream: what the engine checks, without the WebSocket envelope."""
    frames = []
    for event in events:
        bare = {k: v for k, v in event.items() if k != "stream_id" and not (k == "status" and event["type"] == "error")}
        data = "\n".join(f"data: {line}" for line in json.dumps(bare, ensure_ascii=False).split("\n"))
        frames.append(f"event: {event['type']}\n{data}\n\n")
    return "".join(frames).encode()


Problem = tuple[str, str, Any, Any]


def _framing(messages: list[Received]) -> Iterator[Problem]:
    """`ws_message_is_json`: each message is text holding one JSON object with a string `type`."""
    for index, message in enumerate(messages):
        if isinstance(message, bytes):
            yield "ws_message_is_json", f"message {index} is binary", "a text message", f"{len(message)} bytes"
        elif _event(message) is None:
            yield "ws_message_is_json", f"message {index} is not one JSON event", "a JSON event", message[:200]


#: `ResponseWsError` and its `ErrorPayload` (pinned spec): required members and the types each may have
_WS_ERROR: dict[str, tuple[bool, tuple[type, ...]]] = {
    "status": (False, (int,)), "sequence_number": (False, (int,)), "stream_id": (False, (str,)),
    "error": (True, (dict,)),
}  # fmt: skip
_PAYLOAD: dict[str, tuple[bool, tuple[type, ...]]] = {
    "type": (True, (str,)), "code": (True, (str, type(None))), "message": (True, (str,)),
    "param": (True, (str, type(None))), "headers": (False, (dict,)),
}  # fmt: skip


def _error_shapes(events: list[dict[str, Any]]) -> Iterator[Problem]:
    """`ws_error_shape`: every `error` message is a `ResponseWsError` (its details nested under `error`)."""
    for event in (e for e in events if e.get("type") == "error"):
        yield from _members(event, _WS_ERROR, "")
        if isinstance(event.get("error"), dict):
            yield from _members(event["error"], _PAYLOAD, "/error")


def _members(value: dict[str, Any], members: dict[str, tuple[bool, tuple[type, ...]]], at: str) -> Iterator[Problem]:
    for name, (required, types) in members.items():
        present = name in value
        wrong = present and (not isinstance(value[name], types) or isinstance(value[name], bool))
        if (required and not present) or wrong:
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            received = json.dumps(value[name]) if present else "missing"
            yield "ws_error_shape", f"{at}/{name} of an error message is not a ResponseWsError's", expected, received


def _echoed(events: list[dict[str, Any]], stream_id: str | None) -> Iterator[Problem]:
    """`ws_stream_id_echoed`: the events of a response whose `response.create` named a lane carry its id."""
    if stream_id is None:
        return
    for index, event in enumerate(events):
        if event.get("stream_id") != stream_id:
            message = f"event {index} ({event.get('type')}) does not echo the lane's stream_id"
            yield "ws_stream_id_echoed", message, stream_id, event.get("stream_id", "missing")
            return


def _open(c: Conversation, auth: bool | str = True) -> Socket | None:
    """An open socket; None, with the scenario skipped, where the target answers the upgrade otherwise."""
    socket = Socket(c, auth)
    try:
        return socket.__enter__()
    except _Refused as refused:
        if refused.status == 401:
            refused_key = f"{socket.url} refused the key in ${c.session.key_env} (HTTP 401 on the upgrade)"
            raise KeyRefused(refused_key) from None
        c.skip(f"no WebSocket mode: the upgrade to {socket.url} was answered HTTP {refused.status}")
        return None


def _expect_completed(c: Conversation, check: str, exchange: Exchange, what: str) -> dict[str, Any] | None:
    response = body_of(exchange) if exchange.kind == "stream" else None
    status = (response or {}).get("status")
    c.expect(check, status == "completed", f"{what} did not complete", exchange, expected="completed",
             received=status or _error_code(exchange) or exchange.kind)  # fmt: skip
    return response


def _error_code(exchange: Exchange) -> Any:
    """The `error.code` of an exchange that is one error message."""
    event = _event(exchange.body.decode("utf-8", "replace")) if exchange.kind == "error" else None
    error = (event or {}).get("error")
    return error.get("code") if isinstance(error, dict) else None


def _with_socket(func: Callable[[Conversation, Socket], None]) -> ScenarioFunc:
    """A scenario body run on an open socket (closed after), skipped where the target has no WebSocket mode."""

    def run(c: Conversation) -> None:
        socket = _open(c)
        if socket is None:
            return
        with socket:
            func(c, socket)

    run.__name__, run.__doc__ = func.__name__, func.__doc__
    return run


@ws_scenario
@_with_socket
def ws_text_stream(c: Conversation, ws: Socket) -> None:
    """A text answer over the WebSocket mode: each message one JSON event, checked as a stream's events are."""
    _expect_completed(c, "ws_response_completes", ws.create(input="Say hello in one short sentence."), "the response")


@ws_scenario
@_with_socket
def ws_sequential(c: Conversation, ws: Socket) -> None:
    """Two responses one after the other on one connection, each a whole stream of its own."""
    first = _expect_completed(c, "ws_response_completes", ws.create(input="Say hello."), "the first response")
    second_ex = ws.create(input="Say goodbye.")
    second = _expect_completed(c, "ws_response_completes", second_ex, "the second response on the connection")
    ids = [(r or {}).get("id") for r in (first, second)]
    if first and second:
        c.expect("ws_sequential_responses", ids[0] != ids[1], "both responses have the same id", second_ex,
                 expected="two response ids", received=ids)  # fmt: skip


@ws_scenario
@_with_socket
def ws_lanes(c: Conversation, ws: Socket) -> None:
    """Two lanes (`stream_id`) at once on one connection: each lane's response whole and numbered from 0,
    each event echoing its lane."""
    answers = ws.lanes({"lane_a": {"input": "Say hello."}, "lane_b": {"input": "Say goodbye."}})
    for lane, exchange in answers.items():
        _expect_completed(c, "ws_response_completes", exchange, f"the response of lane {lane}")


@ws_scenario
@_with_socket
def ws_continuation(c: Conversation, ws: Socket) -> None:
    """A continuation (`previous_response_id`) sent on the connection that made the response it continues."""
    first = ws.create(input="Remember the code word heron.")
    rid = c.created_id(first)
    if rid is None:
        return
    follow = ws.create(input="What was the code word?", previous_response_id=rid)
    response = _expect_completed(c, "ws_continuation_accepted", follow, "the continuation")
    if response is not None:
        c.expect("previous_response_id_echoed", response.get("previous_response_id") == rid,
                 "the continuation does not name the response it continues", follow, expected=rid,
                 received=response.get("previous_response_id"))  # fmt: skip


@ws_scenario
def ws_unstored_reconnect(c: Conversation) -> None:
    """`store: false`: continued on its own connection (its memory), refused after a reconnect as
    `previous_response_not_found`."""
    socket = _open(c)
    if socket is None:
        return
    with socket:
        rid = c.created_id(socket.create(input="Remember the code word heron.", store=False))
        if rid is None:
            return
        same = socket.create(input="What was the code word?", previous_response_id=rid, store=False)
        _expect_completed(c, "ws_unstored_continues_on_its_connection", same, "the continuation on the connection")
    again = _open(c)
    if again is None:
        return
    with again:
        gone = again.create(input="What was the code word?", previous_response_id=rid, store=False)
    code = _error_code(gone)
    c.expect("ws_unstored_gone_after_reconnect", code == "previous_response_not_found",
             "a store:false response was continued from another connection", gone,
             expected="error previous_response_not_found", received=code or gone.kind)  # fmt: skip


BAD_MESSAGES = (
    ("a response.create without model", json.dumps({"type": "response.create", "input": "Say hello."})),
    ("a message that is not JSON", "{this is not JSON"),
    ("an event type the server does not accept", json.dumps({"type": "response.unknown_event"})),
)


@ws_scenario
@_with_socket
def ws_errors(c: Conversation, ws: Socket) -> None:
    """Bad messages are each answered by one `error` message (a `ResponseWsError` with a 4xx `status`),
    and the connection still answers the next response."""
    for what, text in BAD_MESSAGES:
        answer = ws.send(text)
        c.expect("ws_bad_message_is_error", answer.kind == "error" and 400 <= answer.status < 500,
                 f"{what} was not answered by a 4xx error message", answer, expected="an error message, 4xx status",
                 received=f"{answer.kind} {answer.status}")  # fmt: skip
    after = ws.create(input="Say hello.")
    _expect_completed(c, "ws_connection_survives_errors", after, "the response after the error messages")


@ws_scenario
def ws_unauthenticated(c: Conversation) -> None:
    """A wrong key: the upgrade is refused with 401 and OpenAI's error envelope, as HTTP refuses it."""
    if not c.session.api_key:
        c.skip(KEYLESS)
        return
    socket = Socket(c, WRONG_KEY)
    reproduce = socket.reproduce("")
    try:
        with socket:
            pass
    except _Refused as refused:
        ex = Exchange(c.name, "createResponse", "GET", "/responses", None, refused.status, refused.headers,
                      refused.body, reproduce, "error")  # fmt: skip
        _kept(c, ex)
        c.expect_status("ws_wrong_key_refused", ex, 401, "the upgrade with a wrong key was not refused with 401")
        return
    ex = _kept(c, Exchange(c.name, "createResponse", "GET", "/responses", None, 101, {}, b"", reproduce, "error",
                           findings=[]))  # fmt: skip
    c.expect_status("ws_wrong_key_refused", ex, 401, "the upgrade with a wrong key was accepted")
