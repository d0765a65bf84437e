"""The live check end to end: scenarios and schemathesis cases over real HTTP against the reference
server, faithful (clean under the strict profile) and broken on purpose (each quirk caught)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from respkit.conformance.live import SCENARIOS, Session, run_scenarios
from respkit.conformance.live.commands import local_models
from respkit.conformance.live.fuzz import Generation
from respkit.conformance.live.ws import for_transport
from respkit.conformance.profiles import load_profile
from respkit.conformance.replay import Result
from respkit.conformance.server import run_server
from respkit.conformance.server.selfcheck import server_errata
from tests.paths import REPO

SECRET = "sk-respkit-test-9f8e7d6c5b4a39281706"


def failures(results: list[Result]) -> dict[str, set[str]]:
    """check id -> scenarios in which it failed."""
    out: dict[str, set[str]] = {}
    for result in results:
        for finding in result.findings:
            if finding.fails:
                out.setdefault(finding.check, set()).add(result.recording.display)
    return out


@pytest.fixture(scope="module")
def faithful() -> Iterator[str]:
    with run_server(api_keys={SECRET}) as url:
        yield url


def run(url: str, profile: str = "strict", key: str = SECRET) -> list[Result]:
    with Session(url, key, "OPENAI_API_KEY", timeout=30) as session:
        profile_ = local_models(load_profile(profile))  # the embedded server's raw-reasoning and audio models too
        return run_scenarios(session, profile_, "gpt-4.1-mini", "o4-mini")


def test_the_reference_server_passes_every_scenario_under_openai(faithful: str) -> None:
    results = run(faithful, "openai")
    # the WebSocket mode's scenarios: tests/test_live_ws.py
    assert {r.recording.display for r in results} == {f"live: {name}" for name in for_transport("http")}
    assert failures(results) == {}
    assert [r.recording.skipped for r in results if r.recording.skipped] == []  # each did what it is for
    # it answers as OpenAI does: what the published spec refuses, only the errata the server needs explain
    assert {f.note for r in results for f in r.findings} <= server_errata()


#: where the published spec refuses the server's answers: `null` for a member not set (`user`, and `usage`
#: until a response ends), and the `error` event's nested shape (conformance.server.selfcheck.SERVER_ERRATA)
NULLED = ("/user", "/usage")


def test_under_strict_only_what_theserver_errata_explain_fails(faithful: str) -> None:
    failed = [f for r in run(faithful) for f in r.findings if f.fails]
    assert failed, "the server sends `usage: null` and `user: null` as OpenAI does: strict must refuse them"
    assert {f.check for f in failed} <= {"response_matches_schema", "event_matches_schema"}
    assert all(f.pointer.endswith(NULLED) or f.message.startswith("ResponseErrorEvent") for f in failed)


@pytest.mark.parametrize(
    ("quirk", "check"),
    [
        ("out-of-order", "stream_item_added_before_use"),
        ("no-terminal", "stream_ends_with_terminal"),
        ("repeated-sequence", "stream_sequence_numbers_increase"),
        ("bad-deltas", "stream_deltas_match_done"),
        ("wrong-content-type", "sse_content_type"),
        ("bare-error", "error_matches_envelope"),
        ("acedata", "sse_event_line_present"),
        ("4allapi", "stream_sequence_number_present"),
        ("openrouter", "sse_done_sentinel"),
        ("chat-completions", "response_matches_schema"),
    ],
)
def test_each_quirk_mode_is_caught_live(quirk: str, check: str) -> None:
    with run_server(quirks=quirk, api_keys={SECRET}) as url:
        found = failures(run(url, "openai"))
    assert check in found, sorted(found)


def test_a_scenario_expectation_fails_when_the_server_misbehaves(faithful: str) -> None:
    # the faithful server accepts only SECRET: with any key accepted, a wrong key is not refused
    with run_server() as lax:
        found = failures(run(lax))
    assert found.get("bad_key_is_401") == {"live: error_unauthenticated"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def respkit(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "respkit.conformance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def test_an_unreachable_target_exits_3_in_one_line() -> None:
    result = respkit("check", "--base-url", f"http://127.0.0.1:{_free_port()}/v1", env={"OPENAI_API_KEY": SECRET})
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "cannot reach" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_run_left_before_its_cases_are_taken_stops_the_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an unreachable target or a refused key ends the run at once, not after seconds of draws nobody uses
    monkeypatch.setenv("RESPKIT_CACHE_DIR", str(tmp_path))  # nothing cached: every operation is drawn
    with Generation(workers=2) as generation:
        pending = list(generation.pending)
        assert pending and generation.pool is not None
        processes = list(generation.pool._processes.values())
    assert processes and not any(p.is_alive() for p in processes)
    assert not [f for f in pending if f.done() and not f.cancelled() and f.exception() is None]  # none drawn
    assert not list(tmp_path.glob("cases/*"))  # and nothing kept as if it had been


@pytest.mark.slow
def test_a_target_that_never_answers_exits_3_in_one_line() -> None:
    with socket.socket() as listener:  # the kernel completes the handshake; nobody ever answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        result = respkit(
            "check", "--base-url", f"http://127.0.0.1:{port}/v1", "--timeout", "1", env={"OPENAI_API_KEY": SECRET}
        )
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"respkit: error: http://127.0.0.1:{port}/v1 did not answer POST /responses within 1 s"
    )


def test_a_refused_key_is_one_configuration_error(faithful: str) -> None:
    result = respkit("check", "--base-url", faithful, env={"OPENAI_API_KEY": "sk-not-the-right-key-0000"})
    assert result.returncode == 2, result.stdout[-2000:]
    assert result.stderr.strip() == (
        f"respkit: error: {faithful} refused the key in $OPENAI_API_KEY (HTTP 401 on POST /responses)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "ftp://x/v1"], "--base-url 'ftp://x/v1': expected an http:// or https:// URL"),
        (["--timeout", "-5"], "--timeout -5: expected a positive number of seconds"),
        (["--scenario", "nope"], "--scenario: unknown scenario 'nope' (see `respkit check --list-scenarios`)"),
    ],
)
def test_bad_options_are_one_line(args: list[str], message: str) -> None:
    result = respkit("check", *args, env={"OPENAI_API_KEY": SECRET})
    assert (result.returncode, result.stderr.strip()) == (2, f"respkit: error: {message}")


def test_list_scenarios_names_each_with_its_purpose() -> None:
    result = respkit("check", "--list-scenarios")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(SCENARIOS)
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # every scenario says what it asks


def test_an_unwritable_report_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = respkit("replay", "--json", str(tmp_path / "a-file" / "r.json"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "a-file" in result.stderr and "Traceback" not in result.stderr


def test_a_body_cut_mid_stream_is_a_finding() -> None:
    import threading

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def serve_half() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                event = b"event: response.created\ndata: {}\n\n"
                conn.sendall(head + f"{len(event):x}\r\n".encode() + event + b"\r\n")

        thread = threading.Thread(target=serve_half)
        thread.start()
        with Session(f"http://127.0.0.1:{port}/v1", SECRET, "OPENAI_API_KEY", timeout=5) as session:
            exchange = session.request("cut", "createResponse", "POST", "/responses", {"stream": True})
        thread.join()
    from respkit.conformance.live.runner import check_exchange

    assert exchange.cut is not None and "after" in exchange.cut
    found = check_exchange(exchange, load_profile("openai"))
    assert found[0].check == "body_read_completely" and found[0].fails


def test_a_missing_key_variable_against_a_keyed_target_is_one_usage_error(faithful: str) -> None:
    # an unset (or empty) variable runs keyless; a target that needs a key then ends the run naming it
    env = {k: v for k, v in os.environ.items() if k != "RESPKIT_NO_SUCH_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "respkit.conformance", "check", "--base-url", faithful, "--api-key-env",
         "RESPKIT_NO_SUCH_KEY", "--no-schemathesis", "--no-reports"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 2
    note, error = result.stderr.strip().splitlines()
    assert note == "respkit: note: $RESPKIT_NO_SUCH_KEY is empty or not set: checking without a key (--no-auth)"
    assert error.startswith(f"respkit: error: {faithful} needs a key (HTTP 401 on ")
    assert error.endswith("without one): put it in $RESPKIT_NO_SUCH_KEY or name its variable with --api-key-env")


def test_reports_never_carry_the_key(tmp_path: Path, faithful: str) -> None:
    with run_server(quirks="bad-deltas", api_keys={SECRET}) as url:
        result = respkit(
            "check", "--base-url", url, "--no-schemathesis", "--junit-xml", str(tmp_path / "r.xml"),
            "--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md"),
            "--html", str(tmp_path / "r.html"),
            env={"OPENAI_API_KEY": SECRET},
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    texts = [result.stdout, result.stderr] + [p.read_text() for p in tmp_path.iterdir()]
    assert all(SECRET not in t for t in texts)
    assert (tmp_path / "r.md").read_text().startswith("# respkit check\n")
    report = json.loads((tmp_path / "r.json").read_text())
    assert "$OPENAI_API_KEY" in json.dumps(report)
    assert report["recordings"] and all(r["live"] for r in report["recordings"])  # no recordings with a URL


@pytest.mark.slow
def test_record_then_replay_is_clean_and_redacted(tmp_path: Path, faithful: str) -> None:
    out = tmp_path / "rec"
    result = respkit("record", "--base-url", faithful, "--out", str(out), "--profile", "openai",
                     env={"OPENAI_API_KEY": SECRET})  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted(out.iterdir())
    assert any(p.suffix == ".sse" for p in files) and any(p.name.endswith(".error.json") for p in files)
    assert all(SECRET not in p.read_text() for p in files)
    replayed = respkit("replay", str(out))
    assert replayed.returncode == 0, replayed.stdout[-3000:]

    # the openai profile's models are asked for, its reasoning model by the reasoning scenario
    (reasoning,) = [p for p in files if p.name.endswith("_reasoning_stream_createResponse.meta.yaml")]
    assert "model=gpt-5-mini" in yaml.safe_load(reasoning.read_text())["request"]
    (text,) = [p for p in files if p.name.endswith("_text_createResponse.meta.yaml")]
    assert "model=gpt-4.1-mini" in yaml.safe_load(text.read_text())["request"]

    # the resumed stream names the stream it continues; replay reads it after that one's first frames
    (resumed,) = [p for p in files if p.name.endswith("_stream_resume_getResponse.sse")]
    sidecar = resumed.with_name(resumed.name.replace(".sse", ".meta.yaml"))
    meta = yaml.safe_load(sidecar.read_text())
    original = meta["resumes"]["recording"]
    assert original.endswith("_stream_resume_createResponse.sse") and meta["resumes"]["starting_after"] == 3
    sidecar.write_text(yaml.safe_dump({k: v for k, v in meta.items() if k != "resumes"}))
    alone = respkit("replay", str(resumed))  # read alone, it starts in the middle of an output item
    assert alone.returncode == 1 and "stream_item_added_before_use" in alone.stdout
    sidecar.write_text(yaml.safe_dump({**meta, "resumes": {"recording": "gone.sse", "starting_after": 3}}))
    broken = respkit("replay", str(resumed))
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1, broken.stderr
    assert "resumes" in broken.stderr and "gone.sse, which cannot be read" in broken.stderr


@pytest.mark.parametrize("command", ["replay", "selftest"])
def test_an_empty_folder_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = respkit(command, str(tmp_path))
    assert result.returncode == 2 and result.stderr.startswith("respkit: error: no "), result.stderr
    assert str(tmp_path) in result.stderr


def test_a_long_live_stream_is_checked_as_it_arrives(faithful: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from respkit.conformance.live import session as session_module
    from respkit.conformance.live.runner import check_exchange, stream_checker

    monkeypatch.setattr(session_module, "KEEP_BYTES", 64 * 1024)
    profile = load_profile("openai")
    with Session(faithful, SECRET, "OPENAI_API_KEY", timeout=60) as session:
        session.stream_checker = stream_checker(profile)
        body = {"model": "gpt-4.1-mini", "input": "[long:5000] go", "stream": True}
        exchange = session.request("long", "createResponse", "POST", "/responses", body)
    assert exchange.findings is not None and exchange.clipped
    assert len(exchange.body) == 64 * 1024
    assert [f for f in check_exchange(exchange, profile) if f.fails] == []


@pytest.mark.slow
def test_the_main_job_writes_every_report_unless_told_not_to(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "respkit.conformance", "check", "--no-schemathesis", "--no-replay", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    assert run("--no-reports", "--scenario", "text").returncode == 0 and not (tmp_path / "reports").exists()
    result = run()
    assert result.returncode == 0, result.stdout[-2000:]
    # what was exercised: every operation answered, and every stream event type of the spec
    found = re.search(r"^coverage: 7 of 7 operations answered 2xx; (\d+) of (\d+) stream event types seen$",
                      result.stdout, re.M)  # fmt: skip
    assert found and int(found[1]) == int(found[2]) > 50, result.stdout[-500:]
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert written == ["respkit-check.html", "respkit-check.json", "respkit-check.md", "respkit-check.xml"]
    report = json.loads((tmp_path / "reports" / "respkit-check.json").read_text())
    covered = report["coverage"]
    assert covered["answered"] == covered["operations"] and len(covered["seen"]) == int(found[1])
    assert found[0] in (tmp_path / "reports" / "respkit-check.md").read_text()
    assert found[0] in (tmp_path / "reports" / "respkit-check.html").read_text()


def test_a_profile_file_of_ones_own_drives_record_and_replay(tmp_path: Path, faithful: str) -> None:
    profile = tmp_path / "my-provider.yaml"
    profile.write_text("name: mine\nmodels: {text: small-1}\ndeviations: []\n")
    out = tmp_path / "rec"
    result = respkit("record", "--base-url", faithful, "--out", str(out), "--profile", str(profile),
                     env={"OPENAI_API_KEY": SECRET})  # fmt: skip
    assert result.returncode == 0, result.stderr
    sidecars = [yaml.safe_load(p.read_text()) for p in sorted(out.glob("*.meta.yaml"))]
    assert {(m["provider"], m["profile"]) for m in sidecars} == {("mine", "../my-provider.yaml")}
    assert not list(out.glob("*reasoning_stream*"))  # the profile names no reasoning model
    creates = [m["request"] for m in sidecars if m["request"].startswith("POST /responses;")]
    assert creates and all("model=small-1" in request for request in creates)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    replayed = respkit("replay", str(out), cwd=elsewhere)  # the sidecars find the profile file from anywhere
    assert replayed.returncode == 0, replayed.stdout[-3000:] + replayed.stderr
    assert " mine " in replayed.stdout  # the provider's column
