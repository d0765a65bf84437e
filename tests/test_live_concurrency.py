"""The live run at provider speed (issue 11): scenarios and schemathesis cases side by side, one 429 gate
for every worker, the `/v1` hint, keyless targets, reproduce lines that reproduce, progress on a terminal
only. Over real HTTP: the reference server, behind tests/_misbehaving_proxy.py where the server side must
observe something (requests in flight, arrivals during a rate limit). No assertion on time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from respkit.conformance.cli import main
from respkit.conformance.live import Session, run_scenarios
from respkit.conformance.live.commands import served
from respkit.conformance.live.fuzz import run_fuzz
from respkit.conformance.live.scenarios import KEYLESS
from respkit.conformance.profiles import load_profile
from respkit.conformance.server import run_server
from tests._misbehaving_proxy import Answer, Call, Forward, Proxy, run_proxy
from tests.paths import REPO
from tests.test_live_check import failures

KEY = "sk-respkit-concurrency-5a4b3c2d1e0f"
FEW = ["text", "text_stream", "input_tokens", "error_not_found", "error_bad_request", "unstored_response"]
ENVELOPE = json.dumps({"error": {"message": "Rate limit reached", "type": "requests", "param": None,
                                 "code": "rate_limit_exceeded"}}).encode()  # fmt: skip


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with run_server(api_keys={KEY}) as url:
        yield url


@pytest.fixture
def proxy(upstream: str) -> Iterator[Proxy]:
    with run_proxy(upstream) as running:
        yield running


@dataclass
class Overlap:
    """Holds each request until another one is in flight (at most `hold` seconds), counting the most in
    flight at once: requests sent side by side meet here; requests sent one after another never do."""

    hold: float = 1.0
    in_flight: int = 0
    most: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, call: Call, forward: Forward) -> Answer:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.arrived.set()
        self.arrived = asyncio.Event()
        try:
            if self.in_flight == 1:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), self.hold)
            return await forward(call)
        finally:
            self.in_flight -= 1


def _scenarios(url: str, concurrency: int, key: str | None = KEY) -> list[object]:
    with Session(url, key, "OPENAI_API_KEY", timeout=30) as session:
        return list(run_scenarios(session, load_profile("openai"), "gpt-4.1-mini", None, FEW, concurrency=concurrency))


@pytest.mark.parametrize(("concurrency", "most", "hold"), [(4, range(2, 5), 1.0), (1, range(1, 2), 0.3)])
@pytest.mark.slow
def test_scenarios_overlap_up_to_the_concurrency(proxy: Proxy, concurrency: int, most: range, hold: float) -> None:
    # one at a time, every request waits out its hold: a shorter one (requests sent side by side arrive
    # within milliseconds of each other) keeps the serial case from taking a second per request
    held = Overlap(hold)
    proxy.breakage = held
    results = _scenarios(proxy.url, concurrency)
    assert len(results) == len(FEW)
    assert held.most in most, held.most


def test_schemathesis_cases_overlap_too(proxy: Proxy) -> None:
    held = Overlap()
    proxy.breakage = held
    cases = [("getResponse", "GET", f"/responses/resp_{n}", None) for n in range(6)]
    with Session(proxy.url, KEY, "OPENAI_API_KEY", timeout=30) as session:
        results = run_fuzz(session, load_profile("openai"), cases=cases, concurrency=3)
    assert [r.recording.display for r in results] == ["schemathesis: getResponse"]
    assert held.most in range(2, 4), held.most


@dataclass
class RateLimited:
    """The first request is a 429 with `Retry-After: 1`; so is any that arrives within that second
    (`early`): a client whose workers all wait sends only what was already on its way."""

    until: float | None = None
    early: int = 0
    limited: int = 0

    async def __call__(self, call: Call, forward: Forward) -> Answer:
        now = time.monotonic()
        if self.until is None:
            self.until = now + 1.0
        elif now >= self.until:
            return await forward(call)
        else:
            self.early += 1
        self.limited += 1
        return Answer(429, {"content-type": "application/json", "retry-after": "1"}, ENVELOPE)


def respkit(*args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, "OPENAI_API_KEY": KEY, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "respkit.conformance", *args],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={k: v for k, v in merged.items() if v is not None},
    )  # fmt: skip


def test_a_429_holds_every_worker_and_the_wait_is_reported(proxy: Proxy, tmp_path: Path) -> None:
    limited = RateLimited()
    proxy.breakage = limited
    scenarios = [a for name in FEW for a in ("--scenario", name)]
    report = tmp_path / "r.json"
    result = respkit("check", "--base-url", proxy.url, "--json", str(report), "--concurrency", "4", *scenarios)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert limited.early <= 3  # only requests already sent when the first 429 came back
    [waited] = [line for line in result.stdout.splitlines() if line.startswith("rate limited: waited ")]
    assert f" s over {limited.limited} answer" in waited
    assert json.loads(report.read_text())["context"]["rate_limited"] == waited.removeprefix("rate limited: ")


def test_the_rate_limit_wait_is_bounded(proxy: Proxy) -> None:
    proxy.breakage = RateLimited(until=time.monotonic() + 3600)  # every answer a 429
    result = respkit("check", "--base-url", proxy.url, "--no-reports", "--scenario", "text", "--max-rate-wait", "0.5")
    assert result.returncode == 3, result.stdout[-2000:] + result.stderr
    assert result.stderr.strip() == (
        f"respkit: error: {proxy.url} kept rate-limiting: a 429 asked to wait 1 s, past --max-rate-wait 0.5 s "
        "(waited 0.0 s before)"
    )


def test_a_base_url_without_v1_is_one_line(upstream: str) -> None:
    bare = upstream.removesuffix("/v1")
    result = respkit("check", "--base-url", bare, "--no-reports")
    assert result.returncode == 2, result.stdout[-2000:]
    line = result.stderr.strip()
    assert line.startswith(f"respkit: error: --base-url {bare}: ")
    assert line.endswith(f"answers: use --base-url {upstream}")
    assert "\n" not in line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def serve() -> Iterator[str]:
    """`respkit serve` as a user starts it: no option but the port."""
    port = _free_port()
    argv = [sys.executable, "-m", "respkit.conformance", "serve", "--port", str(port)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(500):
            try:
                httpx.get(base + "/responses/resp_x", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "respkit serve exited"
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.slow
def test_respkit_serve_and_a_keyless_check_pass_out_of_the_box(serve: str) -> None:
    result = respkit("check", "--base-url", serve, "--no-reports", env={"OPENAI_API_KEY": None})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert f"[skipped] error_unauthenticated: {KEYLESS}" in result.stdout
    assert "checking without a key" in result.stderr
    with_key = respkit("check", "--base-url", serve, "--no-reports", "--no-schemathesis", "--no-auth")
    assert with_key.returncode == 0, with_key.stdout[-3000:]


@pytest.mark.slow
def test_the_reference_server_passes_the_schemathesis_phase() -> None:
    # the default cases, as the keyless check above drew them (a cold cache draws them once per module)
    with run_server(api_keys={KEY}) as url, Session(url, KEY, "OPENAI_API_KEY", timeout=30) as session:
        results = run_fuzz(session, load_profile("strict"))
        sent = len(session.exchanges)
    assert sent >= 40 and len(results) == 7
    assert failures(results) == {}


def test_a_target_taking_any_key_still_fails_bad_key_is_401(serve: str) -> None:
    result = respkit("check", "--base-url", serve, "--no-reports", "--scenario", "error_unauthenticated")
    assert result.returncode == 1
    assert "bad_key_is_401" in result.stdout and KEY not in result.stdout


async def _server_error(call: Call, forward: Forward) -> Answer:
    return Answer(500, {"content-type": "application/json"}, b'{"error": {"message": "boom", "type": "server_error"}}')


def test_a_schemathesis_reproduce_line_carries_the_body_and_not_the_key(proxy: Proxy) -> None:
    proxy.breakage = _server_error
    body = {"model": "gpt-4.1-mini", "input": "généré", "temperature": 3}
    with Session(proxy.url, KEY, "OPENAI_API_KEY", timeout=30) as session:
        [result] = run_fuzz(session, load_profile("openai"), cases=[("createResponse", "POST", "/responses", body)])
    [finding] = [f for f in result.findings if f.check == "no_server_error"]
    assert f"-d '{json.dumps(body)}'" in finding.reproduce
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in finding.reproduce and KEY not in finding.reproduce


def test_the_embedded_runs_reproduce_lines_outlive_it(upstream: str) -> None:
    with Session(upstream, KEY, "RESPKIT_LOCAL_KEY", timeout=30, reproducer=served(load_profile("openai"))) as session:
        run_scenarios(session, load_profile("openai"), "gpt-4.1-mini", None, ["error_not_found"])
        run_fuzz(session, load_profile("openai"), cases=[("createResponse", "POST", "/responses", {"input": "x"})])
    scenario, case = (e.reproduce for e in session.exchanges)
    then = "respkit serve --port 8080, then: "
    assert scenario == f"{then}respkit check --base-url http://127.0.0.1:8080/v1 --no-auth --scenario error_not_found"
    assert case == f"{then}curl -sS -X POST http://127.0.0.1:8080/v1/responses -H 'Content-Type: application/json' " + (
        """-d '{"input": "x"}'"""
    )
    assert upstream not in scenario + case and KEY not in scenario + case


HIDE_CURSOR = "\x1b[?25l"  # what a rich live display sends first
COLOUR = re.compile(r"\x1b\[(?:\d+;)*3[0-8](?:;\d+)*m")  # an SGR sequence that sets a foreground colour


def _on_a_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """What `respkit` writes to a terminal (a pseudo-terminal here)."""
    leader, follower = pty.openpty()
    quiet = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    merged = {**quiet, "OPENAI_API_KEY": KEY, "TERM": "xterm-256color", "COLUMNS": "120", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "respkit.conformance", *args], cwd=REPO, stdout=follower, stderr=follower, env=merged
    )
    os.close(follower)
    out = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 600)
        try:
            chunk = os.read(leader, 65536) if ready else b""
        except OSError:  # the terminal closed with the process
            chunk = b""
        if not chunk:
            break
        out += chunk
    process.wait(timeout=60)
    os.close(leader)
    return out.decode("utf-8", "replace")


QUICK = ("check", "--no-schemathesis", "--no-replay", "--no-reports", "--scenario", "text", "--scenario", "delete")


@pytest.mark.slow
def test_progress_shows_on_a_terminal_and_nowhere_else(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _on_a_terminal(*QUICK)
    assert HIDE_CURSOR in shown and COLOUR.search(shown)
    assert HIDE_CURSOR not in _on_a_terminal(*QUICK, env={"NO_COLOR": "1"})
    plain = _on_a_terminal(*QUICK, "--no-color")
    assert HIDE_CURSOR not in plain and not COLOUR.search(plain)
    assert HIDE_CURSOR not in _on_a_terminal(*QUICK, "-q")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert main(list(QUICK)) == 0  # a pipe (here: pytest's capture) gets no progress
    piped = capsys.readouterr()
    assert HIDE_CURSOR not in piped.out + piped.err and "done: text" not in piped.out
    assert main([*QUICK, "-v"]) == 0  # -v: a line per scenario done, terminal or not
    verbose = capsys.readouterr().out
    assert "done: text" in verbose and "done: delete" in verbose
