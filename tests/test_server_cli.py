"""`respkit serve`: the quirk listing, option errors as one line with exit 2, and a real served process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from respkit.conformance.cli import main
from respkit.conformance.server import QUIRKS


def test_list_quirks_prints_every_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--list-quirks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(QUIRKS)


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--quirks", "nope"], "--quirks"),
        (["--rate-limit", "0"], "--rate-limit"),
        (["--max-body-bytes", "0"], "--max-body-bytes"),
        (["--port", "70000"], "--port"),
        (["--api-key", ""], "--api-key"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], names: str) -> None:
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and names in err and "Traceback" not in err


def test_busy_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["serve", "--port", str(busy.getsockname()[1])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot listen" in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(500):
        if process.poll() is not None:
            raise AssertionError("respkit serve exited early")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.02)
    raise AssertionError("respkit serve did not start")


def test_serve_runs_until_interrupted() -> None:
    port = _free_port()
    argv = [sys.executable, "-m", "respkit.conformance", "serve", "--port", str(port), "--api-key", "sk-one"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    try:
        base = f"http://127.0.0.1:{port}/v1"
        _wait_for(base + "/responses/x", process)
        answer = httpx.post(
            base + "/responses", json={"model": "gpt-4.1", "input": "hi"}, headers={"Authorization": "Bearer sk-one"}
        )
        assert answer.json()["output"][0]["content"][0]["text"] == "You said: hi"
        assert httpx.get(base + "/responses/x", headers={"Authorization": "Bearer sk-two"}).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode in (0, 130)
    assert b"sk-one" not in err
