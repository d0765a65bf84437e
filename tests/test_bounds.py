"""Bounded in every dimension: whatever a target or a file does, respkit ends, within its bounds, with a
finding or a one-line error; a bound is named when hit, never a silent cut or a false finding; the key
never leaves the process. Targets misbehave behind `tests._misbehaving_proxy` (breakages in
`tests._unbounded`); every run is small (small bounds through the options) and has a safety timeout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from respkit.conformance.cli import main
from respkit.conformance.engine import check_stream
from respkit.conformance.server import run_server
from respkit.conformance.sse import SseReader
from tests import _unbounded as breaks
from tests._misbehaving_proxy import Breakage, run_proxy
from tests.paths import REPO, SPEC

KEY = "respkit-echo-0123456789abcdef"  # shaped like no known credential: only the exact key can hide it
SAFETY = 120  # seconds: a run that is still going then has hung


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with run_server(api_keys={KEY}) as url:
        yield url


def respkit(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "respkit.conformance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SAFETY,
        env={**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(REPO)},  # this tree's respkit, from any cwd
    )


def check_through(upstream: str, breakage: Breakage, *args: str) -> subprocess.CompletedProcess[str]:
    """`respkit check` against the reference server behind a proxy that applies `breakage`."""
    with run_proxy(upstream) as proxy:
        proxy.breakage = breakage
        return respkit("check", "--base-url", proxy.url, "--no-schemathesis", "--no-reports", *args)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    err = result.stderr.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


# -- a target that stalls, drips or never ends


@pytest.mark.slow
def test_a_target_that_stalls_after_its_headers_ends_as_unreachable(upstream: str) -> None:
    result = check_through(upstream, breaks.on("stream", breaks.stall), "--timeout", "2")
    assert result.returncode == 3, result.stdout[-2000:] + result.stderr
    assert "stopped sending POST /responses: no data for 2 s after" in one_line(result)


@pytest.mark.slow
def test_a_dripping_target_ends_at_the_deadline(upstream: str) -> None:
    drip = breaks.on("stream", breaks.drip(0.1))
    # one scenario at a time, so that the drips add up past the deadline (side by side they would end first)
    args = ("--timeout", "5", "--max-stream-seconds", "0.5", "--deadline", "2", "--concurrency", "1")
    result = check_through(upstream, drip, *args)
    assert result.returncode == 3, result.stdout[-2000:] + result.stderr
    assert "kept the run past its deadline of 2 s" in one_line(result) and "--deadline" in result.stderr


def test_a_dripping_stream_is_cut_at_its_time_bound(upstream: str, tmp_path: Path) -> None:
    drip = breaks.on("stream", breaks.drip(0.2))
    result = check_through(
        upstream, drip, "--scenario", "text_stream", "--max-stream-seconds", "1", "--json", str(tmp_path / "r.json")
    )
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    findings = [f for r in json.loads((tmp_path / "r.json").read_text())["recordings"] for f in r["findings"]]
    cut = [f for f in findings if f["check"] == "within_bounds"]
    assert len(cut) == 1 and "--max-stream-seconds 1" in cut[0]["message"]
    # respkit's own cut is not the target's fault: no "ends without a terminal event", no unterminated event
    assert not {"stream_ends_with_terminal", "sse_event_terminated"} & {f["check"] for f in findings}


def test_an_endless_stream_is_cut_at_its_byte_bound_with_findings_capped(upstream: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    args = ["--scenario", "text_stream", "--max-stream-bytes", "300000", "--max-findings", "5", "--json", str(report)]
    result = check_through(upstream, breaks.on("stream", breaks.endless), *args)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    findings = [f for r in json.loads(report.read_text())["recordings"] for f in r["findings"]]
    assert any(f["check"] == "within_bounds" and "--max-stream-bytes" in f["message"] for f in findings)
    not_json = [f["message"] for f in findings if f["check"] == "sse_data_is_json"]
    assert len(not_json) == 6 and "more findings of this check cut here (--max-findings 5" in not_json[-1]


# -- findings


def test_findings_are_capped_per_check_and_stream_and_the_cut_counted() -> None:
    from respkit.conformance.limits import Limits, using

    body = b"data: not json\n\n" * 1000
    with using(Limits(max_findings=3)):
        found = check_stream([body], profile="openai")
    not_json = [f for f in found if f.check == "sse_data_is_json"]
    assert len(not_json) == 4 and not_json[-1].message.startswith("997 more findings of this check cut here")


def test_a_broken_recording_replays_with_capped_findings(tmp_path: Path) -> None:
    (tmp_path / "broken.sse").write_bytes(b"event: x\ndata: not json\n\n" * 20_000)
    report = tmp_path / "r.json"
    result = respkit("replay", str(tmp_path), "--profile", "openai", "--max-findings", "10", "--json", str(report))
    assert result.returncode == 1, result.stderr
    findings = json.loads(report.read_text())["recordings"][0]["findings"]
    by_check: dict[str, int] = {}
    for f in findings:
        by_check[f["check"]] = by_check.get(f["check"], 0) + 1
    assert max(by_check.values()) <= 11 and len(result.stdout) < 200_000


# -- secrets


def test_a_key_echoed_by_the_target_leaves_the_process_nowhere(upstream: str, tmp_path: Path) -> None:
    reports = [str(tmp_path / f"r.{suffix}") for suffix in ("xml", "json", "md", "html")]
    args = ["--scenario", "text", "--junit-xml", reports[0], "--json", reports[1], "--markdown", reports[2]]
    result = check_through(upstream, breaks.on("json", breaks.echo_key), *args, "--html", reports[3])
    assert result.returncode == 1, result.stderr
    assert "your key is [REDACTED]" in result.stdout
    texts = [result.stdout, result.stderr, *(Path(p).read_text() for p in reports)]
    assert [KEY in text for text in texts] == [False] * 6


# -- bodies


def test_a_body_beyond_16_mb_is_checked_whole(upstream: str) -> None:
    big = breaks.on("json", breaks.padded(17 * 1024 * 1024))
    result = check_through(upstream, big, "--scenario", "text")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "response_is_json" not in result.stdout


def test_a_body_beyond_max_body_bytes_is_reported_as_such(upstream: str) -> None:
    big = breaks.on("json", breaks.padded(400_000))
    result = check_through(upstream, big, "--scenario", "text", "--max-body-bytes", "100000")
    assert result.returncode == 1, result.stderr
    assert "within_bounds" in result.stdout and "--max-body-bytes 100000 bytes" in result.stdout
    assert "response_is_json" not in result.stdout  # a part of a body is not checked as if it were all of it


def record_through(upstream: str, breakage: Breakage, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with run_proxy(upstream) as proxy:
        proxy.breakage = breakage
        return respkit("record", "--base-url", proxy.url, "--out", str(out), "--profile", "openai", *args)


def test_record_keeps_a_large_body_whole_or_says_why_not(upstream: str, tmp_path: Path) -> None:
    big = breaks.on("json", breaks.padded(17 * 1024 * 1024))
    assert record_through(upstream, big, tmp_path / "whole", "--scenario", "text").returncode == 0
    (text,) = (tmp_path / "whole").glob("*_text_createResponse.json")
    assert {p.name.split("_", 1)[1] for p in (tmp_path / "whole").iterdir()} == {  # --scenario: that one alone
        "text_createResponse.json",
        "text_createResponse.meta.yaml",
    }
    assert text.stat().st_size == 17 * 1024 * 1024
    small = record_through(upstream, big, tmp_path / "bounded", "--scenario", "text", "--max-body-bytes", "1000000")
    assert small.returncode == 0, small.stderr
    assert not list((tmp_path / "bounded").glob("*_text_createResponse.*"))
    assert "not recorded: 00_text_createResponse: --max-body-bytes" in small.stderr


def test_record_says_where_a_stream_was_cut(upstream: str, tmp_path: Path) -> None:
    endless = breaks.on("stream", breaks.endless)
    args = ("--scenario", "text_stream", "--max-stream-bytes", "100000", "--deadline", "60")
    result = record_through(upstream, endless, tmp_path / "rec", *args)
    assert result.returncode == 0, result.stderr
    (sidecar,) = (tmp_path / "rec").glob("*_text_stream_createResponse.meta.yaml")
    meta = yaml.safe_load(sidecar.read_text())
    assert meta["complete"] is False and meta["cut"].startswith("--max-stream-bytes")
    assert sidecar.with_name(sidecar.name.replace(".meta.yaml", ".sse")).stat().st_size == 100_000


def test_a_recording_holds_the_bytes_received(upstream: str, tmp_path: Path) -> None:
    not_utf8 = breaks.on("stream", breaks.not_utf8)
    result = record_through(upstream, not_utf8, tmp_path / "rec", "--scenario", "text_stream")
    assert result.returncode == 0, result.stderr
    (stream,) = (tmp_path / "rec").glob("*_text_stream_createResponse.sse")
    assert b"\xff" in stream.read_bytes()
    replayed = respkit("replay", str(stream))
    assert replayed.returncode == 1 and "sse_utf8" in replayed.stdout, replayed.stdout[-2000:]


# -- the SSE reader


def test_a_long_line_is_held_as_its_chunks_until_it_ends() -> None:
    # joining the line once, when it ends, keeps a 100 MB line linear (it was a copy per chunk: quadratic)
    reader = SseReader()
    chunks = [b"data: "] + [bytes([65 + i % 26]) * 4096 for i in range(64)]
    for chunk in chunks:
        assert reader.feed(chunk) == []
    assert len(reader._pending) == len(chunks) and all(a is b for a, b in zip(reader._pending, chunks, strict=True))
    (frame,) = reader.feed(b"\n\n")
    assert frame.data == b"".join(chunks)[6:].decode()


# -- replay's inputs


def test_a_folder_replay_cannot_read_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    (tmp_path / "ok.json").write_bytes((REPO / "conformance/recordings/openai/text_input.json").read_bytes())
    (tmp_path / "locked").mkdir()
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["replay", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "locked: cannot read the folder: Permission denied" in err


def test_a_symlink_loop_is_named_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    assert main(["replay", str(loop)]) == 2
    assert capsys.readouterr().err.strip() == f"respkit: error: {loop}: a symbolic link loop"
    assert main(["replay", str(tmp_path)]) == 2  # in a folder too: never skipped
    assert "a symbolic link loop" in capsys.readouterr().err


def test_random_bytes_are_not_an_event_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    noise = tmp_path / "noise.sse"
    noise.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(64 * 1024)))  # no line is a field
    assert main(["replay", str(noise)]) == 2
    assert "noise.sse: not an event stream" in capsys.readouterr().err


# -- generate and spec


#: nine levels of nine aliases (387 million nodes once expanded) inside the schema of `/responses`
BOMB = "\n".join(
    ["openapi: 3.1.0", "x-nodes:", "  a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"  {n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    + ["paths:", "  /responses:", "    post: {requestBody: {x-bomb: *i}}"]
    + ["  /responses/{id}:", "    get: {x-bomb: *i}", ""]
)


def spec_copy(tmp_path: Path) -> str:
    """A copy of spec/ to point `spec update` at (a run that goes wrong changes nothing of the repository)."""
    shutil.copytree(REPO / "spec", tmp_path / "repo" / "spec")
    return str(tmp_path / "repo" / "spec" / "respkit.yaml")


@pytest.mark.parametrize("command", ["diff", "update"])
def test_a_yaml_alias_bomb_is_refused_in_one_line(tmp_path: Path, command: str) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    update = ["update", "--from", str(bomb), "--config", spec_copy(tmp_path)]
    result = respkit("spec", *(["diff", str(bomb), str(bomb)] if command == "diff" else update), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "aliases expand to more than 1000000 nodes (--max-yaml-nodes)" in one_line(result)


class _Spec(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = SPEC.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_spec_download_is_bounded(tmp_path: Path) -> None:
    if not SPEC.is_file():  # the server below serves it, from a thread the suite's skip hook does not see
        pytest.skip(f"needs ../shared: {SPEC} is absent")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Spec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/openapi.yaml"
        result = respkit("spec", "diff", url, url, "--max-spec-bytes", "100000", cwd=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2
    assert one_line(result).endswith("the download passed 100000 bytes, more than --max-spec-bytes 100000 bytes allows")


def test_an_unreachable_spec_hint_names_an_option_of_the_command(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/openapi.yaml"
    result = respkit("spec", "update", "--from", url, "--config", spec_copy(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and one_line(result).endswith("give a local copy with --from PATH")


@pytest.mark.parametrize("name", ["import", "class", "None", "os", "json", "pydantic"])
def test_a_package_name_that_cannot_be_imported_as_itself_is_refused(tmp_path: Path, name: str) -> None:
    result = respkit("generate", "--check", "--out", str(tmp_path), "--package", name)
    assert result.returncode == 2 and one_line(result).startswith(f"respkit: error: --package {name!r} ")
