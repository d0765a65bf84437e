"""Replay of the whole shared corpus as pytest items: two pytest-xdist workers (`-n 2`) against one pytest
process (`-p no:xdist`), and against `respkit replay`, each a fresh process timed from start to exit;
the pytest runs once with every installed plugin and once lean (without those a replay does not use).

    python bench/bench_scaleout.py [--repeat 3] [--corpus ../shared/corpus]

Needs the shared corpus (../shared/corpus beside the repository); without it, says so and exits 0.
Prints the best wall time of each and the ratios; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from respkit.conformance.replay import discover

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
#: plugins a replay does not use, left out of every pytest process: importing Hypothesis and schemathesis
#: (their plugins load with pytest) takes seconds per process, paid once more by each xdist worker
LEAN = ["-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:typeguard"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
FLAVOURS = {"pytest": [], "lean pytest": LEAN}


def runs(corpus: Path) -> dict[str, list[str]]:
    """The ways to replay the corpus, by name: pytest (with every plugin, then lean) on two workers and
    in one process, and `respkit replay`."""
    items = ["--respkit-replay", str(corpus)]
    commands = {}
    for label, plugins in FLAVOURS.items():
        commands[f"{label} -n 2"] = [*PYTEST, *plugins, "-p", "xdist", "-n", "2", *items]
        commands[f"{label} one process"] = [*PYTEST, *plugins, "-p", "no:xdist", *items]
    commands["respkit replay"] = [sys.executable, "-m", "respkit.conformance", "replay", str(corpus)]
    return commands


def best(command: list[str], repeat: int, cwd: Path) -> float:
    """The shortest wall time of `repeat` runs; a run that fails is said, and ends the benchmark."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)}: exit {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the best kept (default: 3)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"the recordings (default: {CORPUS})")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"bench_scaleout: needs the shared corpus of recordings; {args.corpus} is absent, nothing measured")
        return
    with tempfile.TemporaryDirectory(prefix="respkit-bench-") as tmp:  # no tests, no conftest.py to collect
        timed = {name: best(command, args.repeat, Path(tmp)) for name, command in runs(args.corpus).items()}
    count = len(list(discover([args.corpus])))
    print(f"replay of {args.corpus} ({count} recordings), best of {args.repeat}:")
    for name, seconds in timed.items():
        print(f"  {name:<22} {seconds:6.2f} s")
    for label in FLAVOURS:
        two, one = timed[f"{label} -n 2"], timed[f"{label} one process"]
        print(f"{label} -n 2 / one process: {two / one:.2f}; / respkit replay: {two / timed['respkit replay']:.2f}")


if __name__ == "__main__":
    main()
