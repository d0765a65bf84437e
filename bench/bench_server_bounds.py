"""Benchmark: the requests of issue 14 against one `respkit serve` process each, with status, time and
peak memory per case, and how long another client waits meanwhile (never a timed test).

Run: python bench/bench_server_bounds.py [--tree PATH] [--memory-limit-gib 4] [--case NAME]...
`--tree` serves the respkit of another checkout (e.g. `git archive HEAD~1 | tar -x -C /tmp/before`), to
compare before and after; the server runs under an address-space limit so that an unbounded one fails
(MemoryError, or killed) rather than take the machine. Options the tree's `serve` lacks are left out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

KEY = {"Authorization": "Bearer sk-bench"}
JSON = {**KEY, "Content-Type": "application/json"}
WAIT = 120.0
#: seconds a dripping client keeps dripping before the case counts it as never answered
DRIP_WAIT = 60.0


@dataclass
class Outcome:
    status: str
    seconds: float
    others_waited: float | None = None


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    def memory_mib(self, field: str = "VmHWM") -> float:
        try:
            text = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return float("nan")
        line = next(line for line in text.splitlines() if line.startswith(field + ":"))
        return int(line.split()[1]) / 1024

    def address(self) -> tuple[str, int]:
        return "127.0.0.1", int(self.base.split(":")[2].split("/")[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _supports(tree: Path, option: str) -> bool:
    argv = [sys.executable, "-m", "respkit.conformance", "serve", "--help"]
    help_text = subprocess.run(argv, capture_output=True, text=True, env=_env(tree), cwd=tree, check=False).stdout
    return option in help_text


def _env(tree: Path) -> dict[str, str]:
    """The tree's packages first (`python -m` also puts the working directory, the tree, first)."""
    return {**os.environ, "PYTHONPATH": str(tree)}


def start(tree: Path, limit_gib: float, options: list[str]) -> Server:
    port = _free_port()
    argv = [sys.executable, "-m", "respkit.conformance", "serve", "--port", str(port), *options]
    limit = int(limit_gib * 2**30)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(tree), cwd=tree, preexec_fn=limited
    )
    server = Server(f"http://127.0.0.1:{port}/v1", process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.post(server.base + "/responses", json={"model": "gpt-4.1", "input": "warm"}, headers=KEY)
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("respkit serve did not start")


def _post(server: Server, raw: bytes, timeout: float = WAIT) -> str:
    try:
        answer = httpx.post(server.base + "/responses", content=raw, headers=JSON, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}" + (f" (server exit {server.process.poll()})" if server.process.poll() else "")
    return f"{answer.status_code} {_code(answer)}"


def _code(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def _others_wait(server: Server, stop: threading.Event, waits: list[float]) -> None:
    """Another client's requests while the case runs: the longest it waited for an answer."""
    while not stop.is_set():
        began = time.monotonic()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(server.base + "/responses/resp_none", headers=KEY, timeout=WAIT)
        waits.append(time.monotonic() - began)
        stop.wait(0.1)


def timed(server: Server, action: Callable[[], str]) -> Outcome:
    stop, waits = threading.Event(), [0.0]
    other = threading.Thread(target=_others_wait, args=(server, stop, waits), daemon=True)
    began = time.monotonic()
    other.start()
    status = action()
    seconds = time.monotonic() - began
    stop.set()
    other.join(WAIT)
    return Outcome(status, seconds, max(waits))


def _body(items: list[dict[str, str]], **extra: Any) -> bytes:
    return json.dumps({"model": "gpt-4.1", "input": items, **extra}, separators=(",", ":")).encode()


def _items(count: int, role: str = "user") -> list[dict[str, str]]:
    return [{"role": role, "content": str(i)} for i in range(count)]


def _stored_stream(server: Server, count: int, items: int) -> str:
    raw, statuses = _body(_items(items)), set()
    for _ in range(count):
        statuses.add(_post(server, raw))
    return ", ".join(sorted(statuses))


def _drip(server: Server, head: bytes) -> str:
    """Send `head`, then a byte every 0.2 s; what the server does about it, within `DRIP_WAIT` seconds."""
    with socket.create_connection(server.address(), timeout=DRIP_WAIT) as sock:
        sock.sendall(head)
        stop = threading.Event()

        def drip() -> None:
            while not stop.wait(0.2):
                try:
                    sock.sendall(b"x")
                except OSError:
                    return

        threading.Thread(target=drip, daemon=True).start()
        try:
            first = sock.recv(200)
        except TimeoutError:
            return f"no answer in {DRIP_WAIT:g} s"
        except ConnectionResetError:
            first = b""
        finally:
            stop.set()
    return first.split(b"\r\n")[0].decode() or "closed"


def _multiplying_tool() -> bytes:
    nested: dict[str, Any] = {"type": "string"}
    for _ in range(5):
        nested = {"type": "array", "minItems": 100, "items": nested}
    tool = {"type": "function", "name": "f", "strict": False, "parameters": nested}
    return json.dumps({"model": "gpt-4.1", "input": "x", "tools": [tool]}).encode()


BODY_HEAD = (
    b"POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-bench\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
)
CASES: dict[str, Callable[[Server], str]] = {
    "100k invalid items (3.3 MB)": lambda s: _post(s, _body(_items(100_000, "wizard"))),
    "1k invalid items": lambda s: _post(s, _body(_items(1_000, "wizard"))),
    "99,999 valid items, then 1 invalid": lambda s: _post(s, _body([*_items(99_999), *_items(1, "wizard")])),
    "lone surrogate": lambda s: _post(s, b'{"model": "gpt-4.1", "input": "\\ud800"}'),
    "temperature NaN": lambda s: _post(s, b'{"model": "gpt-4.1", "input": "x", "temperature": NaN}'),
    "unknown parameter": lambda s: _post(s, b'{"model": "gpt-4.1", "input": "x", "foo": 1}'),
    "max_output_tokens 1e30": lambda s: _post(s, b'{"model": "gpt-4.1", "input": "x", "max_output_tokens": 1e30}'),
    "40 stored 1 MB requests (25k items)": lambda s: _stored_stream(s, 40, 25_000),
    "8 stored 3.3 MB requests (100k items)": lambda s: _stored_stream(s, 8, 100_000),
    "client schema of 100^5 strings": lambda s: _post(s, _multiplying_tool()),
    "headers that drip": lambda s: _drip(s, b"GET /v1/responses/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "),
    "body that drips": lambda s: _drip(s, BODY_HEAD),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--memory-limit-gib", type=float, default=4.0)
    parser.add_argument("--case", action="append", choices=list(CASES), help="run only these cases")
    args = parser.parse_args()
    options = ["--read-timeout", "5"] if _supports(args.tree, "--read-timeout") else []
    print(f"tree {args.tree}; server options {options or 'none'}; address space limit {args.memory_limit_gib:g} GiB")
    print(f"{'case':40} {'status':34} {'time s':>7} {'others waited s':>16} {'peak MiB':>9}")
    for name in args.case or CASES:
        server = start(args.tree, args.memory_limit_gib, options)
        try:
            outcome = timed(server, partial(CASES[name], server))
            peak = server.memory_mib()
        finally:
            server.process.kill()
            server.process.wait()
        waited = f"{outcome.others_waited:.2f}" if outcome.others_waited is not None else "-"
        print(f"{name:40} {outcome.status[:34]:34} {outcome.seconds:7.2f} {waited:>16} {peak:9.0f}", flush=True)


if __name__ == "__main__":
    main()
