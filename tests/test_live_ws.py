"""`respkit check --transport ws` against WebSocket servers that break one thing on purpose.

Each broken server is a tiny starlette app that relays the reference server's WebSocket mode and spoils
the messages of each response one way; the check must fail, naming the check that sees it. The faithful
relay passes, so what fails is the breakage and not the relay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from respkit.conformance.server import run_server

KEY = "sk-ws-live"
Breakage = Callable[[list[str]], list[str | bytes]]
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def _edit(messages: list[str], change: Callable[[dict[str, object]], dict[str, object]]) -> list[str | bytes]:
    return [json.dumps(change(json.loads(m))) for m in messages]


def _swap_second_and_third(messages: list[str]) -> list[str | bytes]:
    return [messages[0], messages[2], messages[1], *messages[3:]]


def _flat_errors(message: dict[str, object]) -> dict[str, object]:
    """An `error` message in the flat shape of the SSE `error` event (`ResponseErrorEvent`), not nested."""
    error = message.get("error")
    return {**error, "type": "error"} if message.get("type") == "error" and isinstance(error, dict) else message


BREAKAGES: dict[str, tuple[Breakage, str]] = {
    "faithful": (lambda ms: list(ms), ""),
    "not-json": (lambda ms: [ms[0], "this is not JSON", *ms[1:]], "ws_message_is_json"),
    "binary": (lambda ms: [ms[0], ms[1].encode(), *ms[2:]], "ws_message_is_json"),
    "no-sequence-numbers": (
        lambda ms: _edit(ms, lambda e: {k: v for k, v in e.items() if k != "sequence_number"}),
        "stream_sequence_number_present",
    ),
    "out-of-order": (_swap_second_and_third, "stream_sequence_numbers_increase"),
    "flat-errors": (lambda ms: _edit(ms, _flat_errors), "ws_error_shape"),
    "no-stream-id": (
        lambda ms: _edit(ms, lambda e: {k: v for k, v in e.items() if k != "stream_id"}),
        "ws_stream_id_echoed",
    ),
}


def _ends(message: str) -> bool:
    event = json.loads(message)
    return event.get("type") in TERMINAL or (event.get("type") == "error" and "sequence_number" not in event)


def relay_app(upstream: str, breakage: Breakage) -> Starlette:
    """Relays each message to the reference server and answers with that response's messages, broken."""

    async def relay(websocket: WebSocket) -> None:
        headers = {"Authorization": websocket.headers.get("authorization", "")}
        await websocket.accept()
        async with connect(upstream, additional_headers=headers) as up:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await up.send(message.get("text") or message.get("bytes") or "")
                answer = [str(await up.recv())]
                while not _ends(answer[-1]):
                    answer.append(str(await up.recv()))
                for out in breakage(answer):
                    await (websocket.send_bytes(out) if isinstance(out, bytes) else websocket.send_text(out))

    return Starlette(routes=[WebSocketRoute("/v1/responses", relay)])


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the broken server did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/v1"
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with run_server(api_keys={KEY}) as url:
        yield url.replace("http://", "ws://") + "/responses"


def check(base_url: str, *scenarios: str, timeout: str = "20") -> subprocess.CompletedProcess[str]:
    chosen = [arg for name in scenarios for arg in ("--scenario", name)]
    return subprocess.run(
        [sys.executable, "-m", "respkit.conformance", "check", "--base-url", base_url, "--transport", "ws",
         *chosen, "--no-reports", "--timeout", timeout],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OPENAI_API_KEY": KEY},
    )  # fmt: skip


def failed_checks(output: str) -> set[str]:
    """The check ids of the results table whose row counts failures (F)."""
    rows = (line.split("│") for line in output.splitlines() if line.startswith("│"))
    return {cells[1].strip() for cells in rows if len(cells) > 2 and any("F" in c for c in cells[2:])}


@pytest.mark.parametrize("mode", list(BREAKAGES))
def test_a_broken_websocket_server_fails_the_check_that_sees_it(upstream: str, mode: str) -> None:
    breakage, check_id = BREAKAGES[mode]
    scenarios = {"flat-errors": ("ws_errors",), "no-stream-id": ("ws_lanes",)}.get(mode, ("ws_text_stream",))
    with serve(relay_app(upstream, breakage)) as url:
        result = check(url, *scenarios)
    if not check_id:
        assert result.returncode == 0, result.stdout + result.stderr
        return
    assert result.returncode == 1, result.stdout + result.stderr
    assert check_id in failed_checks(result.stdout), result.stdout
    assert KEY not in result.stdout + result.stderr


def test_every_websocket_scenario_passes_on_the_reference_server(upstream: str) -> None:
    """The whole WebSocket transport of the check, against the server: every scenario runs, none fails."""
    result = check(upstream.replace("ws://", "http://").removesuffix("/responses"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 live scenarios" in result.stdout and " 0 failed" in result.stdout


def test_a_response_without_its_terminal_event_is_cut_and_the_run_goes_on() -> None:
    """Over a WebSocket nothing marks the end of a response but its terminal event: one that stops without
    it is cut after `--timeout` (a finding), not taken for an unreachable target."""
    with run_server(api_keys={KEY}, quirks="no-terminal") as url:
        result = check(url, "ws_text_stream", "ws_unauthenticated", timeout="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert {"stream_ends_with_terminal", "body_read_completely"} <= failed_checks(result.stdout), result.stdout
    assert "2 live scenarios" in result.stdout
