"""uvicorn's HTTP/1.1 protocol with a deadline for a request's headers.

uvicorn times out an idle keep-alive connection, but not one that sends nothing after connecting, nor
headers that drip (a byte of them stops its keep-alive timer for good): each would hold a connection
for ever. Here a request's headers must be complete within `header_timeout` seconds of the connection
opening or the previous response ending; past it, a connection that sent part of a request gets a 408
in OpenAI's envelope, a silent one is closed. The body has its own deadline, in the app (`guards`)."""

from __future__ import annotations

import asyncio

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from respkit.conformance.server.errors import request_timeout


def _timeout_answer(seconds: float) -> bytes:
    """A complete 408 response, written as bytes: h11 will not answer a request it has not read."""
    body = orjson.dumps(request_timeout(seconds).envelope())
    head = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    return head + b"content-length: %d\r\n\r\n" % len(body) + body


class BoundedH11Protocol(H11Protocol):
    header_timeout: float = 30.0
    _deadline: asyncio.TimerHandle | None = None
    _started = False  # some bytes of the next request arrived

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._started = self._started or self.conn.their_state is h11.IDLE
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        """The next request's headers are due `header_timeout` seconds from now."""
        if self._deadline:
            self._deadline.cancel()
        self._started = False
        self._deadline = self.loop.call_later(self.header_timeout, self._headers_due)

    def _headers_due(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return  # a request is being served: its body and answer are the app's to bound
        if self._started:
            self.transport.write(_timeout_answer(self.header_timeout))
        self.transport.close()


def bounded_protocol(header_timeout: float) -> type[BoundedH11Protocol]:
    """The protocol class to give uvicorn (`http=`) for this deadline."""

    class Protocol(BoundedH11Protocol):
        pass

    Protocol.header_timeout = header_timeout
    return Protocol
