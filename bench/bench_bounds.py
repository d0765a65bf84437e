"""What a misbehaving target or file makes respkit spend, per case of issue 14: exit code, wall time, peak
memory (and stdout size), each run as `respkit` in a child process against a source tree, with default
options. Run it against this tree and against an older checkout to compare:

    python bench/bench_bounds.py [--tree PATH] [--cap SECONDS] [--max-rss MB] [--case NAME]...

A child still running after `--cap` seconds, or above `--max-rss` MB, is killed and reported so. The
misbehaving servers (tests/_misbehaving_proxy.py, tests/_unbounded.py) run in this process. Prints one
row per case; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
#: the tree measured (`--tree`) serves the reference server; this tree's test helpers break it
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve() if "--tree" in sys.argv[:-1] else HERE
sys.path[:0] = [str(TREE), str(HERE)] if TREE != HERE else [str(HERE)]

from tests import _unbounded as breaks  # noqa: E402
from tests._misbehaving_proxy import Breakage, run_proxy  # noqa: E402

KEY = "respkit-bench-0123456789abcdef"
MIB = 1024 * 1024


@dataclass
class Run:
    code: int | str
    seconds: float
    peak_mb: float
    stdout_bytes: int
    note: str = ""


def _peak_mb(pid: int) -> float:
    """The child's peak resident memory so far (VmHWM: its own, unlike wait4's maxrss, which a child
    started by vfork inherits from this process)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(
    args: list[str],
    tree: Path,
    cap: float,
    max_rss: float,
    cwd: Path | None = None,
    program: tuple[str, ...] = ("-m", "respkit.conformance"),
    look_for: str = "",
) -> Run:
    """`python -m conformance ARGS` from `tree`: exit code, seconds, peak memory, stdout size (and whether
    stdout names `look_for`)."""
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        child = subprocess.Popen([sys.executable, *program, *args], cwd=cwd or tree, env=env, stdout=out, stderr=err)
        killed, peak = "", 0.0
        while True:
            peak = max(peak, _peak_mb(child.pid))
            pid, status, _ = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > cap:
                killed = f"still running at {cap:g} s, killed"
            elif peak > max_rss:
                killed = f"above {max_rss:g} MB, killed"
            if killed:
                child.send_signal(signal.SIGKILL)
                _, status, _ = os.wait4(child.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - start
        child.returncode = 0  # reaped by wait4; keep Popen from waiting again
        err.seek(0)
        last = (err.read().decode("utf-8", "replace").strip().splitlines() or [""])[-1][:160]
        if look_for:
            out.seek(0)
            last = f"{look_for} {'in' if look_for.encode() in out.read() else 'not in'} stdout; {last}"
        code: int | str = "killed" if killed else os.waitstatus_to_exitcode(status)
        return Run(code, seconds, peak, out.seek(0, 2), killed or last)


@contextmanager
def proxied(breakage: Breakage) -> Iterator[str]:
    """The reference server (of the tree measured) behind a proxy applying `breakage`."""
    from respkit.conformance.server import run_server

    with run_server(api_keys={KEY}) as upstream, run_proxy(upstream) as proxy:
        proxy.breakage = breakage
        yield proxy.url


def check(breakage: Breakage, *extra: str, look_for: str = "") -> Callable[[Path, float, float, Path], Run]:
    def run(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
        with proxied(breakage) as url:
            args = ["check", "--base-url", url, "--no-schemathesis", "--no-reports", *extra]
            return measure(args, tree, cap, max_rss, look_for=look_for)

    return run


def echoed_key(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
    reports = [tmp / f"r.{s}" for s in ("xml", "json", "md", "html")]
    opts = ["--junit-xml", "--json", "--markdown", "--html"]
    extra = [a for pair in zip(opts, map(str, reports), strict=True) for a in pair]
    run = check(breaks.on("json", breaks.echo_key), "--scenario", "text", *extra)(tree, cap, max_rss, tmp)
    leaks = sum(KEY in p.read_text() for p in reports if p.exists())
    run.note = f"key in {leaks} of 4 reports; " + run.note
    return run


def broken_recording(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
    (tmp / "rec").mkdir()
    block = b"event: x\ndata: not json\n\n" * 40_000
    with (tmp / "rec" / "broken.sse").open("wb") as fh:
        for _ in range(50 * MIB // len(block)):
            fh.write(block)
    return measure(
        ["replay", str(tmp / "rec"), "--profile", "openai", "--json", str(tmp / "r.json")], tree, cap, max_rss
    )


def invalid_utf8_recorded(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
    with proxied(breaks.on("stream", breaks.not_utf8)) as url:
        measure(["record", "--base-url", url, "--out", str(tmp / "rec")], tree, cap, max_rss)
    (stream,) = (tmp / "rec").glob("*_text_stream_createResponse.sse")
    return measure(["replay", str(stream)], tree, cap, max_rss, look_for="sse_utf8")


def long_line(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
    """The SSE reader on one 100 MB line in 64 KiB chunks (as a live stream arrives)."""
    code = (
        "from conformance.sse import read_frames\n"
        "chunk = b'x' * 65536\n"
        "frames = list(read_frames([b'data: '] + [chunk] * 1600 + [b'\\n\\n']))\n"
        "print(len(frames[0].data))\n"
    )
    return measure([], tree, cap, max_rss, program=("-c", code))


def symlink_loop(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
    loop = tmp / "loop.json"
    loop.symlink_to(loop)
    return measure(["replay", str(loop)], tree, cap, max_rss)


def random_bytes(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
    (tmp / "noise.sse").write_bytes(os.urandom(64 * 1024))
    return measure(["replay", str(tmp / "noise.sse")], tree, cap, max_rss)


def alias_bomb(command: str) -> Callable[[Path, float, float, Path], Run]:
    def run(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
        from tests.test_bounds import BOMB

        bomb = tmp / "bomb.yaml"
        bomb.write_text(BOMB)
        if command == "diff":
            return measure(["spec", "diff", str(bomb), str(bomb)], tree, cap, max_rss, cwd=tmp)
        shutil.copytree(tree / "spec", tmp / "repo" / "spec")
        config = str(tmp / "repo" / "spec" / "respkit.yaml")
        return measure(["spec", "update", "--from", str(bomb), "--config", config], tree, cap, max_rss, cwd=tmp)

    return run


class _Endless(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        line = b"openapi: 3.1.0\n" + b"x" * 65536 + b"\n"
        try:
            while True:
                self.wfile.write(b"# " + line)
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


def endless_download(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/openapi.yaml"
        return measure(["spec", "diff", url, url], tree, cap, max_rss, cwd=tmp)
    finally:
        server.shutdown()
        server.server_close()


def package(name: str) -> Callable[[Path, float, float, Path], Run]:
    def run(tree: Path, cap: float, max_rss: float, tmp: Path) -> Run:
        return measure(["generate", "--check", "--out", str(tmp), "--package", name], tree, cap, max_rss)

    return run


CASES: dict[str, Callable[[Path, float, float, Path], Run]] = {
    "stall after headers": check(breaks.on("stream", breaks.stall)),
    "drip 1 byte/s": check(breaks.on("stream", breaks.drip(1.0))),
    "endless invalid stream": check(breaks.on("stream", breaks.endless)),
    "broken 50 MB recording": broken_recording,
    "key echoed in a 200 body": echoed_key,
    "valid 50 MB JSON body": check(
        breaks.on("json", breaks.padded(50 * MIB)), "--scenario", "text", look_for="response_is_json"
    ),
    "invalid UTF-8, recorded, replayed": invalid_utf8_recorded,
    "SSE reader, one 100 MB line": long_line,
    "replay a symlink loop": symlink_loop,
    "replay 64 KB of random bytes": random_bytes,
    "spec diff of an alias bomb": alias_bomb("diff"),
    "spec update from an alias bomb": alias_bomb("update"),
    "spec diff of an endless download": endless_download,
    "generate --package class": package("class"),
    "generate --package os": package("os"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE, help="the respkit source tree to measure")
    parser.add_argument("--cap", type=float, default=300.0, help="seconds before a child is killed")
    parser.add_argument("--max-rss", type=float, default=2048.0, help="MB of memory before a child is killed")
    parser.add_argument("--case", action="append", choices=list(CASES), help="run only these cases")
    args = parser.parse_args()
    print(f"tree: {args.tree}")
    print(f"{'case':<36} {'exit':>6} {'seconds':>8} {'peak MB':>8} {'stdout':>10}  last line of stderr / note")
    for name in args.case or list(CASES):
        with tempfile.TemporaryDirectory(prefix="respkit-bench-") as tmp:
            run = CASES[name](args.tree.resolve(), args.cap, args.max_rss, Path(tmp))
        print(f"{name:<36} {run.code!s:>6} {run.seconds:>8.1f} {run.peak_mb:>8.0f} {run.stdout_bytes:>10}  {run.note}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
