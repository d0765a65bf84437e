"""Time `respkit generate` (whole regeneration, in a fresh process) beside datamodel-code-generator
alone on the same /responses closure, in one run. Prints medians and the ratio.

    python bench/bench_generate.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    from respkit.generator import SpecError, load_config, prepare

    try:
        closure = prepare(load_config()).lenient
    except SpecError as exc:
        raise SystemExit(f"bench_generate needs the pinned spec (its copy, URL or cache): {exc}") from None
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "closure.json"
        bundle.write_text(json.dumps(closure))
        codegen = [
            str(Path(sys.executable).parent / "datamodel-codegen"),
            "--input", str(bundle), "--input-file-type", "openapi", "--output", str(Path(tmp) / "m.py"),
            "--output-model-type", "pydantic_v2.BaseModel", "--formatters", "builtin", "--disable-timestamp",
        ]  # fmt: skip
        respkit = [sys.executable, "-m", "respkit.conformance", "generate", "--out", tmp, "--package", "bench_pkg"]
        a, b = [], []
        for _ in range(runs):  # interleaved, so both see the same machine load
            a.append(timed(respkit))
            b.append(timed(codegen))
    ra, rb = statistics.median(a), statistics.median(b)
    print(f"respkit generate (whole regeneration): median {ra:.2f} s over {runs} runs (min {min(a):.2f})")
    print(f"datamodel-codegen alone on the closure: median {rb:.2f} s (min {min(b):.2f})")
    print(f"ratio respkit / codegen alone: {ra / rb:.2f}; target: whole regeneration under 5 s")


if __name__ == "__main__":
    main()
