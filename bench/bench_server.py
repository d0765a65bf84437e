"""Benchmark: 200 concurrent streaming requests of 1,000 events each against one `respkit serve` process.

Run: python bench/bench_server.py [--streams 200] [--events 1000]
Prints events per second and the 99th-percentile time to first event, after checking that no stream
lost or garbled anything (every stream parses, sequence numbers run 0..N-1, the terminal event is there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

#: Events of a one-message text stream besides its deltas: created, in_progress, item added, part added,
#: text done, part done, item done, completed.
FIXED_EVENTS = 8


@dataclass
class Result:
    first_event: float
    events: int
    problem: str | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "respkit.conformance", "serve", "--port", str(port)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("respkit serve exited before it was ready")
        try:
            httpx.get(f"{base}/responses/none", headers={"Authorization": "Bearer bench"}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("respkit serve did not become ready in 30 s")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_frame(frame: bytes, expected: int) -> tuple[str, str | None]:
    """The event's type, and what is wrong with the frame (None: nothing)."""
    lines = frame.decode().split("\n")
    event_name = next((line[7:] for line in lines if line.startswith("event: ")), None)
    data = next((line[6:] for line in lines if line.startswith("data: ")), None)
    if data is None:
        return "", f"frame {expected} has no data line"
    event = json.loads(data)
    kind = str(event.get("type"))
    if event_name != kind:
        return kind, f"frame {expected}: event line {event_name!r} != type {kind!r}"
    if event.get("sequence_number") != expected:
        return kind, f"frame {expected}: sequence_number {event.get('sequence_number')}"
    return kind, None


async def one_stream(client: httpx.AsyncClient, deltas: int, events: int, padded: bool) -> Result:
    body: dict[str, object] = {"model": "gpt-4.1", "input": f"[long:{deltas}]", "stream": True}
    if not padded:
        body["stream_options"] = {"include_obfuscation": False}
    started = time.perf_counter()
    first, count, buffer, last_type = 0.0, 0, b"", ""
    async with client.stream("POST", "/responses", json=body) as response:
        if response.status_code != 200:
            return Result(0.0, 0, f"HTTP {response.status_code}")
        async for chunk in response.aiter_bytes():
            *complete, buffer = (buffer + chunk).split(b"\n\n")
            for frame in complete:
                last_type, problem = check_frame(frame, count)
                if problem:
                    return Result(first, count, problem)
                first = first or time.perf_counter() - started
                count += 1
    if buffer.strip():
        return Result(first, count, "the stream ends inside a frame")
    if count != events:
        return Result(first, count, f"{count} events, expected {events}")
    if last_type != "response.completed":
        return Result(first, count, f"last event {last_type!r}, expected response.completed")
    return Result(first, count, None)


async def run(base: str, streams: int, events: int, padded: bool) -> tuple[list[Result], float]:
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    headers = {"Authorization": "Bearer bench"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=300) as client:
        started = time.perf_counter()
        work = (one_stream(client, events - FIXED_EVENTS, events, padded) for _ in range(streams))
        results = await asyncio.gather(*work)
        return list(results), time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument(
        "--no-obfuscation", action="store_true", help="ask for streams without OpenAI's `obfuscation` padding"
    )
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    process = start_server(port)
    try:
        wait_ready(base, process)
        cpu_before = cpu_seconds(process.pid)
        results, elapsed = asyncio.run(run(base, args.streams, args.events, not args.no_obfuscation))
        cpu_after = cpu_seconds(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    broken = [r.problem for r in results if r.problem]
    total = sum(r.events for r in results)
    firsts = [r.first_event for r in results if r.events]
    padding = "without" if args.no_obfuscation else "with"
    print(
        f"streams: {len(results)} x {args.events} events ({padding} obfuscation padding), "
        f"one `respkit serve` process, {os.cpu_count()} cores"
    )
    print(f"lost or malformed streams: {len(broken)}" + (f" (first: {broken[0]})" if broken else ""))
    print(f"events: {total} in {elapsed:.2f} s = {total / elapsed:,.0f} events/s")
    p50, p99 = statistics.median(firsts) * 1000, percentile(firsts, 0.99) * 1000
    print(f"time to first event: p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    if cpu_before is not None and cpu_after is not None:
        used = cpu_after - cpu_before
        print(f"server CPU: {used:.2f} s ({used / elapsed:.0%} of one core; the client shares the machine)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
