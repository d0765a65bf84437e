"""uvicorn's WebSocket protocol (the `websockets` library's sans-I/O one), quiet about refused handshakes.

A handshake the app refuses with an HTTP answer (a 401 for a bad key, `ws.responses_socket`) is complete
once that answer is written; uvicorn does not mark it so and logs "ASGI callable returned without
completing handshake" as an error for every refused key."""

from __future__ import annotations

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WsProtocol(WebSocketsSansIOProtocol):
    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            self.handshake_complete = True
