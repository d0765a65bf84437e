"""How much a person has to read when a target is broken: the bytes of `respkit check`'s console output and
of its Markdown report, per quirk mode of the reference server (`respkit serve --quirks NAME`). Run it
against this tree and against an older checkout to compare (issue 11: one root cause, one finding):

    python bench/bench_output.py [--tree PATH] [--ungrouped] [--quirk NAME]... [--no-schemathesis]

`--tree` is a source tree (a checkout or `git archive` of one); its folders are mapped into a `respkit`
package in a temporary folder, so an older version runs without being installed. The server is always
this tree's. `--ungrouped` runs the tree with every finding its own root cause (`findings.group`
replaced in the child), which isolates what grouping saves on the same traffic: an older tree may also
run other scenarios. Prints one row per quirk; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
FOLDERS = ("conformance", "generator", "generated", "spec")
KEY = "respkit-bench-0123456789abcdef"
START_TIMEOUT = 30.0


def _shim(tree: Path, into: Path) -> Path:
    """A folder holding a `respkit` package whose subpackages are `tree`'s folders (as the install maps them)."""
    package = into / "respkit"
    package.mkdir(parents=True)
    for name in FOLDERS:
        (package / name).symlink_to(tree / name, target_is_directory=True)
    return into


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int) -> None:
    end = time.monotonic() + START_TIMEOUT
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the reference server did not listen on port {port} within {START_TIMEOUT:g} s")


@contextmanager
def serving(quirk: str) -> Iterator[str]:
    """This tree's reference server in quirk mode `quirk`, in a child process; yields its base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "respkit.conformance", "serve", "--port", str(port), "--quirks", quirk]
    server = subprocess.Popen(command, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(timeout=10)


#: the child's program with `--ungrouped`: respkit's command line, each finding a root cause of its own
UNGROUPED = (
    "import sys; from respkit.conformance import findings as f; "
    "f.group = lambda found: [f.Group((x,)) for x in found]; "
    "from respkit.conformance.cli import main; sys.exit(main(sys.argv[1:]))"
)


def measure(shim: Path, url: str, tmp: Path, schemathesis: bool, ungrouped: bool) -> tuple[int, int, int, int]:
    """(exit code, console bytes, Markdown bytes, Markdown summary bytes or -1) of one check of `url`."""
    markdown, summary = tmp / "report.md", tmp / "summary.md"
    args = ["check", "--base-url", url, "--no-reports", "--markdown", str(markdown)]
    args += [] if schemathesis else ["--no-schemathesis"]
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(shim), "NO_COLOR": "1"}
    if _has_summary(shim, env):
        args += ["--markdown-summary", str(summary)]
    program = ["-c", UNGROUPED] if ungrouped else ["-m", "respkit.conformance"]
    done = subprocess.run([sys.executable, *program, *args], cwd=tmp, env=env, capture_output=True, check=False)
    size = summary.stat().st_size if summary.exists() else -1
    return done.returncode, len(done.stdout), markdown.stat().st_size if markdown.exists() else -1, size


def _has_summary(shim: Path, env: dict[str, str]) -> bool:
    """Whether the tree measured knows `--markdown-summary` (older ones do not)."""
    help_text = subprocess.run(
        [sys.executable, "-m", "respkit.conformance", "check", "--help"], env=env, capture_output=True, text=True
    ).stdout
    return "--markdown-summary" in help_text


def quirks() -> list[str]:
    sys.path.insert(0, str(HERE))
    from respkit.conformance.server.quirks import QUIRKS

    return list(QUIRKS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE, help="the respkit source tree to measure (default: this)")
    parser.add_argument("--quirk", action="append", help="measure only these quirk modes (default: every one)")
    parser.add_argument("--no-schemathesis", action="store_true", help="skip the schemathesis phase (default: run it)")
    parser.add_argument("--ungrouped", action="store_true", help="every finding its own root cause (default: off)")
    args = parser.parse_args()
    tree = args.tree.resolve()
    print(f"tree: {tree}" + (" (ungrouped)" if args.ungrouped else ""))
    print(f"{'quirk':<20} {'exit':>4} {'console B':>10} {'markdown B':>11} {'summary B':>10}")
    with tempfile.TemporaryDirectory(prefix="respkit-bench-output-") as tmp:
        shim = _shim(tree, Path(tmp) / "shim")
        for quirk in args.quirk or quirks():
            with serving(quirk) as url, tempfile.TemporaryDirectory(dir=tmp) as work:
                found = measure(shim, url, Path(work), not args.no_schemathesis, args.ungrouped)
            code, console, markdown, summary = found
            shown = "-" if summary < 0 else str(summary)
            print(f"{quirk:<20} {code:>4} {console:>10} {markdown:>11} {shown:>10}", flush=True)


if __name__ == "__main__":
    main()
