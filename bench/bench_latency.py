"""What a provider's latency adds to a live check: the full check (scenarios and schemathesis cases)
against the reference server behind a proxy on 127.0.0.1 that holds every request `--delay` seconds,
at the default concurrency and at `--concurrency 1`.

    python bench/bench_latency.py [--delay 1] [--concurrency 8]

For each concurrency it runs the check twice, through the proxy without delay and with it, counts the
requests at the proxy, and prints the time the delay added as a share of (requests x delay): 1.0 is
requests sent one after another, and the target of issue 11 is at most 0.25 at the default concurrency.
Needs the `tests` folder of a checkout (its proxy) and the reference server's dependencies; says so and
exits 2 when something is missing. Asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))  # the checkout's tests folder: its proxy

if TYPE_CHECKING:
    from tests._misbehaving_proxy import Answer, Call, Forward, Proxy
KEY = "sk-respkit-bench-latency-0000"


def _needs() -> str | None:
    """What is missing to run the benchmark, or None."""
    if not (HERE / "tests" / "_misbehaving_proxy.py").is_file():
        return f"{HERE / 'tests' / '_misbehaving_proxy.py'} (a checkout's tests folder)"
    try:
        import httpx  # noqa: F401
        import uvicorn  # noqa: F401

        from respkit.conformance.server import run_server  # noqa: F401
    except ImportError as exc:
        return f"the module {exc.name} (pip install -e . in the checkout)"
    return None


@dataclass
class Held:
    """A proxy breakage that holds each request `seconds`, counting requests and the most in flight."""

    seconds: float
    requests: int = 0
    in_flight: int = 0
    most: int = 0

    async def __call__(self, call: Call, forward: Forward) -> Answer:
        self.requests += 1
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.seconds)
            return await forward(call)
        finally:
            self.in_flight -= 1


def check(url: str, concurrency: int) -> float:
    """Seconds the full check against `url` takes at `concurrency` (its exit code is not the point)."""
    argv = [sys.executable, "-m", "respkit.conformance", "check", "--base-url", url, "--no-reports",
            "--reasoning-model", "o4-mini", "--concurrency", str(concurrency)]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "OPENAI_API_KEY": KEY})
    took = time.monotonic() - started
    if done.returncode not in (0, 1):
        sys.exit(f"bench_latency: the check failed: {done.stderr.strip()[-500:]}")
    return took


def measure(proxy: Proxy, concurrency: int, delay: float) -> tuple[int, float, float]:
    """(requests, seconds without delay, seconds with it) of one full check at `concurrency`."""
    proxy.breakage = Held(0.0)
    plain = check(proxy.url, concurrency)
    held = Held(delay)
    proxy.breakage = held
    slow = check(proxy.url, concurrency)
    return held.requests, plain, slow


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=1.0, help="seconds added to every request (default: 1)")
    parser.add_argument("--concurrency", type=int, default=8, help="the default concurrency (default: 8)")
    args = parser.parse_args()
    missing = _needs()
    if missing:
        print(f"bench_latency: needs {missing}", file=sys.stderr)
        return 2
    from respkit.conformance.server import run_server
    from tests._misbehaving_proxy import run_proxy

    with run_server(api_keys={KEY}) as upstream, run_proxy(upstream) as proxy:
        check(proxy.url, args.concurrency)  # warm up: draw the schemathesis cases into the cache once
        for concurrency in (1, args.concurrency):
            requests, plain, slow = measure(proxy, concurrency, args.delay)
            added = slow - plain
            label = "before (serial)" if concurrency == 1 else "after (default)"
            print(
                f"{label:16} --concurrency {concurrency}: {requests} requests, {plain:.1f} s without delay, "
                f"{slow:.1f} s with {args.delay:g} s each: added {added:.1f} s = "
                f"{added / (requests * args.delay):.2f} of requests x delay"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
