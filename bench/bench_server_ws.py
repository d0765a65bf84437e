"""Benchmark: 200 concurrent streams of 1,000 events over the WebSocket mode, beside the same over HTTP,
against one `respkit serve` process.

Run: python bench/bench_server_ws.py [--streams 200] [--events 1000]
For each transport: events per second, time to first event (p50, p99) and the server's CPU, after
checking that no stream lost or garbled anything (each message one JSON event, sequence numbers
0..N-1, the terminal event last). The HTTP figures come from bench_server.py's own client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from bench_server import FIXED_EVENTS, Result, cpu_seconds, free_port, percentile, start_server, wait_ready
from bench_server import run as run_http
from websockets.asyncio.client import connect


def check_message(message: str | bytes, expected: int) -> tuple[str, str | None]:
    """The event's type, and what is wrong with the message (None: nothing)."""
    if isinstance(message, bytes):
        return "", f"message {expected} is binary"
    event = json.loads(message)
    if event.get("sequence_number") != expected:
        return str(event.get("type")), f"message {expected}: sequence_number {event.get('sequence_number')}"
    return str(event.get("type")), None


async def one_stream(url: str, deltas: int, events: int, padded: bool) -> Result:
    body: dict[str, object] = {"type": "response.create", "model": "gpt-4.1", "input": f"[long:{deltas}]"}
    if not padded:
        body["stream_options"] = {"include_obfuscation": False}
    started = time.perf_counter()
    first, count, last_type = 0.0, 0, ""
    async with connect(url, additional_headers={"Authorization": "Bearer bench"}, max_size=None) as ws:
        await ws.send(json.dumps(body))
        while last_type not in ("response.completed", "response.failed", "error"):
            last_type, problem = check_message(await ws.recv(), count)
            if problem:
                return Result(first, count, problem)
            first = first or time.perf_counter() - started
            count += 1
    if count != events:
        return Result(first, count, f"{count} events, expected {events}")
    if last_type != "response.completed":
        return Result(first, count, f"last event {last_type!r}, expected response.completed")
    return Result(first, count, None)


async def run_ws(base: str, streams: int, events: int, padded: bool) -> tuple[list[Result], float]:
    url = base.replace("http://", "ws://") + "/responses"
    started = time.perf_counter()
    results = await asyncio.gather(*(one_stream(url, events - FIXED_EVENTS, events, padded) for _ in range(streams)))
    return list(results), time.perf_counter() - started


Runner = Callable[[str, int, int, bool], Awaitable[tuple[list[Result], float]]]


def measure(name: str, runner: Runner, base: str, pid: int, args: argparse.Namespace) -> bool:
    """Run one transport's streams and print its line; whether every stream arrived whole."""
    cpu_before = cpu_seconds(pid)
    results, elapsed = asyncio.run(runner(base, args.streams, args.events, not args.no_obfuscation))
    cpu_after = cpu_seconds(pid)
    broken = [r.problem for r in results if r.problem]
    total = sum(r.events for r in results)
    firsts = [r.first_event for r in results if r.events]
    p50, p99 = statistics.median(firsts) * 1000, percentile(firsts, 0.99) * 1000
    cpu = f"{cpu_after - cpu_before:.2f} s" if cpu_before is not None and cpu_after is not None else "n/a"
    print(
        f"{name:<9} lost or malformed {len(broken)}/{len(results)}"
        + (f" (first: {broken[0]})" if broken else "")
        + f"; {total / elapsed:,.0f} events/s; first event p50 {p50:.0f} ms, p99 {p99:.0f} ms; server CPU {cpu}"
    )
    return not broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--no-obfuscation", action="store_true", help="streams without the `obfuscation` padding")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    process = start_server(port)
    try:
        wait_ready(base, process)
        print(f"{args.streams} concurrent streams x {args.events} events, one `respkit serve`, {os.cpu_count()} cores")
        for warm in (run_http, run_ws):  # a cold server (first requests, caches) must not count against either
            asyncio.run(warm(base, 10, 100, True))
        whole = [measure(n, r, base, process.pid, args) for n, r in (("HTTP", run_http), ("WebSocket", run_ws))]
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0 if all(whole) else 1


if __name__ == "__main__":
    sys.exit(main())
