"""The WebSocket transport of `/v1/responses` (OpenAI's "WebSocket mode"; the pinned spec's
`ResponsesClientEvent`, `ResponsesServerEvent` and `ResponseWsError`).

A client opens `GET /v1/responses` with `Upgrade: websocket` and its key in `Authorization`, as for HTTP
(a refused key is the same 401 in OpenAI's envelope, before the upgrade). Each `response.create` text
message runs what a streamed `POST /v1/responses` runs and sends its events back, one JSON text message
each. Messages with the same `stream_id` (a lane; none is a lane too) are answered one after the other,
in order; lanes run side by side. What went wrong with one message is an `error` message in the
`ResponseWsError` shape, `status` holding the HTTP status it would have had, and the connection stays open.

The connection remembers the last response of each lane, stored or not, as OpenAI's does: a continuation
(`previous_response_id`) or an `item_reference` finds it there, else in the store; so a `store: false`
response can be continued on its own connection only, and after a reconnect it is
`previous_response_not_found`.

Bounds (`respkit serve --ws-*`): a message's size (beyond it uvicorn closes the connection with 1009,
"message too big"), the lanes of one connection (`websocket_stream_limit_reached`, the spec's example),
the messages a lane holds waiting (beyond them the server stops reading: TCP pushes back), the seconds a
connection may sit idle (`websocket_idle_timeout`) and may last (`websocket_connection_limit_reached`,
OpenAI's 60 minutes), each sent as an error message before the connection is closed."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import JSONResponse
from starlette.types import Message
from starlette.websockets import WebSocket

from respkit.conformance.server import events
from respkit.conformance.server.errors import ApiError, bad_request
from respkit.conformance.server.guards import INLINE_BYTES, _checked, api_key
from respkit.conformance.server.quirks import Quirk
from respkit.conformance.server.record import Record
from respkit.conformance.server.routes import _check_create, _live, _obfuscate, _planned
from respkit.conformance.server.sse import FAIR_SHARE
from respkit.conformance.server.state import DEFAULT_MAX_BODY_BYTES, ServerState
from respkit.conformance.server.validation import check_body

DEFAULT_WS_MAX_MESSAGE_BYTES = DEFAULT_MAX_BODY_BYTES
#: seconds a connection may go without a message while no response runs on it
DEFAULT_WS_IDLE_TIMEOUT = 300.0
#: seconds a connection may last (OpenAI closes its connections after 60 minutes)
DEFAULT_WS_MAX_CONNECTION_SECONDS = 3600.0
#: lanes (distinct `stream_id`s, the default lane included) one connection may open
DEFAULT_WS_MAX_STREAMS = 16
#: `response.create` messages a lane holds waiting; past them the server reads no more from the connection
LANE_QUEUE = 16
#: what the spec allows a `stream_id` to be (`ResponsesClientEventResponseCreate`)
STREAM_ID = re.compile(r"[A-Za-z0-9_.-]{1,256}")
#: envelope members of a `response.create` that are not `POST /v1/responses` body members
_ENVELOPE = ("type", "stream_id", "stream")


@dataclass(frozen=True)
class WsLimits:
    """The bounds of one WebSocket connection (each has a `respkit serve` option)."""

    max_message_bytes: int = DEFAULT_WS_MAX_MESSAGE_BYTES
    idle_timeout: float = DEFAULT_WS_IDLE_TIMEOUT
    max_connection_seconds: float = DEFAULT_WS_MAX_CONNECTION_SECONDS
    max_streams: int = DEFAULT_WS_MAX_STREAMS

    def __post_init__(self) -> None:
        for name in ("max_message_bytes", "max_streams"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("idle_timeout", "max_connection_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be above 0, got {getattr(self, name)}")


class _Closed(Exception):
    """The connection is over (the client left, or a bound ended it): every lane stops."""


def ws_error(error: ApiError, stream_id: str | None = None, sequence_number: int | None = None) -> dict[str, Any]:
    """`error` in the `ResponseWsError` shape: the HTTP error's payload under `error`, its status in `status`."""
    payload: dict[str, Any] = {"type": error.type, "code": error.code, "message": error.message, "param": error.param}
    if error.headers:
        payload["headers"] = {name.lower(): value for name, value in error.headers.items()}
    message: dict[str, Any] = {"type": "error", "status": error.status, "error": payload}
    if sequence_number is not None:
        message["sequence_number"] = sequence_number
    if stream_id is not None:
        message["stream_id"] = stream_id
    return message


def _as_ws(event: events.Event, quirk: Quirk, stream_id: str | None) -> events.Event:
    """A stream event as the WebSocket sends it: the quirk's body, and the lane's `stream_id` when the client
    named one. (The stream's `error` event is already nested as `ResponseWsError` nests it: `events.error_event`.)"""
    response = event.get("response")
    if isinstance(response, dict):
        event = {**event, "response": quirk.body(response)}
    return {**event, "stream_id": stream_id} if stream_id is not None else event


async def _iterate(items: Iterator[events.Event]) -> AsyncIterator[events.Event]:
    for item in items:
        yield item


async def _padded(items: AsyncIterator[events.Event]) -> AsyncIterator[events.Event]:
    async for item in items:
        yield events.obfuscated(item)


async def responses_socket(websocket: WebSocket) -> None:
    """The endpoint: the key checked before the upgrade, then one `Connection` until it ends."""
    server: ServerState = websocket.app.state.server
    limits: WsLimits = websocket.app.state.ws_limits
    try:
        key = api_key(websocket, server.api_keys)
    except ApiError as error:
        headers = {**error.headers, "x-request-id": f"req_{uuid.uuid4().hex}"}
        await websocket.send_denial_response(JSONResponse(error.envelope(), error.status, headers))
        return
    await websocket.accept()
    await Connection(websocket, server, limits, key).run()


@dataclass
class Lane:
    """The `response.create` messages of one `stream_id`, answered in order by one task."""

    stream_id: str | None
    #: each message's event and its size in bytes
    queue: asyncio.Queue[tuple[dict[str, Any], int]] = field(default_factory=lambda: asyncio.Queue(LANE_QUEUE))


class Connection:
    """One open WebSocket: a reader that routes messages to lanes, a task per lane, one sender at a time."""

    def __init__(self, websocket: WebSocket, server: ServerState, limits: WsLimits, key: str) -> None:
        self.ws, self.server, self.limits, self.key = websocket, server, limits, key
        self.lanes: dict[str | None, Lane] = {}
        #: the last response of each lane: what a continuation finds before the store (stored or not)
        self.recent: dict[str | None, Record] = {}
        self.pending = 0  # messages received and not yet answered (a connection running one is not idle)
        self.sending = asyncio.Lock()
        self.group: asyncio.TaskGroup | None = None

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                self.group = group
                group.create_task(self._read())
        except* _Closed:
            pass

    async def send(self, message: dict[str, Any]) -> None:
        try:
            async with self.sending:
                await self.ws.send_text(orjson.dumps(message).decode())
        except (OSError, RuntimeError) as exc:  # the client left (uvicorn: ClientDisconnected; starlette: closed)
            raise _Closed() from exc

    async def _read(self) -> None:
        ends = time.monotonic() + self.limits.max_connection_seconds
        while True:
            message = await self._receive(ends)
            if message["type"] == "websocket.disconnect":
                raise _Closed()
            await self._route(message)

    async def _receive(self, ends: float) -> Message:
        """The next message; at a bound, the error that says which, then the connection is closed."""
        while True:
            left = ends - time.monotonic()
            try:
                async with asyncio.timeout(min(self.limits.idle_timeout, max(left, 0.0))):
                    return await self.ws.receive()
            except TimeoutError:
                if time.monotonic() >= ends:
                    await self._end(_lifetime(self.limits.max_connection_seconds))
                if not self.pending:
                    await self._end(_idle(self.limits.idle_timeout))

    async def _end(self, error: ApiError) -> None:
        await self.send(ws_error(error))
        await self.ws.close(1000)
        raise _Closed()

    async def _route(self, message: Message) -> None:
        """Parse a message and queue it on its lane; what cannot be parsed or routed is answered at once."""
        try:
            event, raw_size = _parsed(message, self.limits.max_message_bytes)
            lane = self._lane(_stream_id(event))
        except _Refused as refused:
            await self.send(ws_error(refused.error, refused.stream_id))
            return
        self.pending += 1
        await lane.queue.put((event, raw_size))

    def _lane(self, stream_id: str | None) -> Lane:
        lane = self.lanes.get(stream_id)
        if lane is not None:
            return lane
        if len(self.lanes) >= self.limits.max_streams:
            raise _Refused(_stream_limit(self.limits.max_streams), stream_id)
        lane = self.lanes[stream_id] = Lane(stream_id)
        assert self.group is not None
        self.group.create_task(self._serve(lane))
        return lane

    async def _serve(self, lane: Lane) -> None:
        while True:
            event, size = await lane.queue.get()
            try:
                await self._respond(lane.stream_id, event, size)
            except ApiError as error:
                await self.send(ws_error(error, lane.stream_id))
            except _Closed:
                raise
            except Exception:  # the server's own bug: a 500 for this response, as HTTP answers it
                await self.send(ws_error(_server_error(), lane.stream_id))
            finally:
                self.pending -= 1

    async def _respond(self, stream_id: str | None, event: dict[str, Any], size: int) -> None:
        """What `POST /v1/responses` with `stream: true` does, its events sent as messages."""
        self.server.limiter.check(self.key)
        body = await _body(event, size)
        _check_create(body)
        history = self._history(body.get("previous_response_id"))
        record, kept = await asyncio.to_thread(_planned, body, history, self._item)
        self.server.store.add(record, kept)
        self.recent[stream_id] = record
        live: AsyncIterator[events.Event] = _iterate(events.numbered(_live(record)))
        if _obfuscate(body):
            live = _padded(live)
        quirk = self.server.quirk
        count = 0
        async for item in quirk.events(live, body["model"]):
            await self.send(_as_ws(item, quirk, stream_id))
            count += 1
            if count % FAIR_SHARE == 0:
                await asyncio.sleep(0)  # let the other lanes and connections have their turn

    def _item(self, item_id: Any) -> dict[str, Any]:
        """What an `item_reference` names: an item of a response this connection remembers (stored or not),
        else of the store. Called from a worker thread, so it reads a copy of the lanes' records."""
        for record in list(self.recent.values()):
            found = next((i for i in (*record.input_items, *record.output()) if i.get("id") == item_id), None)
            if found is not None:
                return found
        return self.server.store.item(item_id)

    def _history(self, previous_id: Any) -> list[dict[str, Any]]:
        if not isinstance(previous_id, str):
            return []
        previous = next((r for r in self.recent.values() if r.id == previous_id), None)
        if previous is None:
            previous = self.server.store.previous(previous_id)
        return [*previous.history, *previous.input_items, *previous.output()]


@dataclass
class _Refused(Exception):
    error: ApiError
    stream_id: str | None = None


def _parsed(message: Message, limit: int) -> tuple[dict[str, Any], int]:
    """The message's JSON object and its size; a `_Refused` for a binary, oversized or unreadable one."""
    text = message.get("text")
    if text is None:
        raise _Refused(bad_request("Binary messages are not accepted: send each event as a JSON text message."))
    raw = text.encode()
    if len(raw) > limit:
        raise _Refused(_too_large(limit))
    try:
        return _checked(raw, None), len(raw)
    except ApiError as error:
        raise _Refused(error) from None


def _stream_id(event: dict[str, Any]) -> str | None:
    """The lane the event names; a `_Refused` for an event that is no `response.create` or a bad `stream_id`."""
    stream_id = event.get("stream_id")
    named = stream_id if isinstance(stream_id, str) else None
    kind = event.get("type")
    if kind != "response.create":
        raise _Refused(
            bad_request(
                f"Invalid value: {kind!r}. Supported values are: 'response.create'.", param="type", code="invalid_value"
            ),
            named,
        )
    if stream_id is not None and not (isinstance(stream_id, str) and STREAM_ID.fullmatch(stream_id)):
        message = "Invalid 'stream_id': expected 1 to 256 characters of A-Z, a-z, 0-9, '_', '.' or '-'."
        raise _Refused(bad_request(message, param="stream_id", code="invalid_value"))
    return named


async def _body(event: dict[str, Any], size: int) -> dict[str, Any]:
    """The `POST /v1/responses` body a `response.create` carries, checked as that body is checked."""
    body = {key: value for key, value in event.items() if key not in _ENVELOPE}
    if body.get("background"):
        raise bad_request("`background` is not supported over WebSocket.", param="background", code="invalid_value")
    if size <= INLINE_BYTES:
        check_body(body, "CreateResponse")
    else:
        await asyncio.to_thread(check_body, body, "CreateResponse")
    return body


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, f"The message is larger than {limit} bytes (`respkit serve --ws-max-message-bytes`).",
        code="request_too_large",
    )  # fmt: skip


def _stream_limit(limit: int) -> ApiError:
    message = f"This WebSocket connection has reached its stream limit ({limit}; `respkit serve --ws-max-streams`)."
    return bad_request(message, param="stream_id", code="websocket_stream_limit_reached")


def _idle(seconds: float) -> ApiError:
    message = f"The WebSocket connection was idle for {seconds:g} seconds (`respkit serve --ws-idle-timeout`)."
    return ApiError(408, message, code="websocket_idle_timeout")


def _lifetime(seconds: float) -> ApiError:
    message = (
        f"Responses WebSocket connection limit reached ({seconds:g} seconds; `respkit serve "
        "--ws-max-connection-seconds`). Create a new WebSocket connection to continue."
    )
    return bad_request(message, code="websocket_connection_limit_reached")


def _server_error() -> ApiError:
    return ApiError(500, "The server had an error while processing your request.", type="server_error")
