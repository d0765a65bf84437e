"""Events per second: respkit's full stream checks, against `json.loads` of the same payloads (the limit)
and per-event validation by `jsonschema.Draft202012Validator` against the stream event union (the naive way).

    python bench/bench_checks.py [--seconds 3]

Prints the three rates and the ratios; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema

from respkit.conformance.engine import check_stream
from respkit.conformance.findings import Source
from respkit.conformance.schema import default_validators
from respkit.conformance.sse import read_frames
from respkit.generator.spec_view import STREAM_UNION

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def streams() -> list[tuple[str, bytes]]:
    return [(p.parent.name, p.read_bytes()) for p in sorted(CORPUS.rglob("*.sse"))]


def payloads(bodies: list[tuple[str, bytes]]) -> list[str]:
    return [f.data for _, body in bodies for f in read_frames([body]) if f.data != "[DONE]"]


def once(work: Callable[[], int], seconds: float) -> float:
    """Events per second of `work` (which returns how many events it handled), repeated for `seconds`."""
    events, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        events += work()
    return events / (time.perf_counter() - start)


def rates(works: dict[str, Callable[[], int]], seconds: float, rounds: int) -> dict[str, float]:
    """The best rate of each, over rounds that take turns (so that load from elsewhere hits all alike)."""
    for work in works.values():
        work()  # warm up: compile validators, fill caches
    best = dict.fromkeys(works, 0.0)
    for _ in range(rounds):
        for name, work in works.items():
            best[name] = max(best[name], once(work, seconds / rounds))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per method")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bodies = streams()
    if not bodies:
        raise SystemExit(f"bench_checks needs the recorded streams of ../shared/corpus: no .sse file in {CORPUS}")
    datas = payloads(bodies)
    count = len(datas)

    def full() -> int:
        for provider, body in bodies:
            check_stream([body], profile=provider, source=Source(provider))
        return count

    def loads() -> int:
        for d in datas:
            json.loads(d)
        return count

    bundle = default_validators().lenient_doc
    naive = jsonschema.Draft202012Validator(
        {"components": bundle["components"], "$ref": f"#/components/schemas/{STREAM_UNION}"}
    )
    sample = datas[: min(count, 60)]

    def jsonschema_naive() -> int:
        for d in sample:
            naive.is_valid(json.loads(d))
        return len(sample)

    print(f"corpus: {len(bodies)} streams, {count} events, {sum(len(b) for _, b in bodies)} bytes")
    found = rates({"full": full, "loads": loads, "naive": jsonschema_naive}, args.seconds, args.rounds)
    r_full, r_loads, r_naive = found["full"], found["loads"], found["naive"]
    print(f"respkit full checks        {r_full:12,.0f} events/s")
    print(f"json.loads (the limit)     {r_loads:12,.0f} events/s")
    print(f"jsonschema per event       {r_naive:12,.0f} events/s")
    print(f"respkit / json.loads       {r_full / r_loads:12.3f}")
    print(f"respkit / jsonschema       {r_full / r_naive:12.1f}x")


if __name__ == "__main__":
    main()
