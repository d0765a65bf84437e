"""Output a person acts on (issue 11): one root cause is one finding, expected and received in their order,
reports with their context, a Markdown summary that fits a pull request comment, report files 0644, plurals,
--check / --exclude-check, defaults from [tool.respkit], help that names the exit codes, and the pytest
plugin's failure message."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console

from respkit.conformance.cli import HelpFormatter, build_parser, main
from respkit.conformance.console import print_results
from respkit.conformance.defaults import long_options
from respkit.conformance.findings import Finding, Severity, contrast, group
from respkit.conformance.replay import Recording, Result
from respkit.conformance.reports import COMMENT_LIMIT, Coverage, tally, to_json, to_markdown, write_reports
from respkit.conformance.server import run_server
from tests.paths import REPO, pytest_env
from tests.stream_builder import Stream

SPEC = "openai-openapi.yaml 2.3.0"
MESSAGE = "sequence number does not follow the previous one"


def scenario(name: str, findings: list[Finding], seconds: float = 0.0, live: bool = True) -> Result:
    display = f"live: {name}" if live else name
    rec = Recording(Path(name), display, "stream", "openai", "openai", live=live)
    return Result(rec, findings, seconds=seconds)


def off_by_one(source: str, event: int = 3, message: str = MESSAGE) -> Finding:
    return Finding(
        check="stream_sequence_numbers_increase", severity=Severity.FAILURE, message=message, source=source,
        event_index=event, sequence_number=event - 1, pointer="/sequence_number", expected=str(event),
        received=str(event - 1), reproduce=f"curl -sS http://127.0.0.1:1/v1/responses # {source}",
    )  # fmt: skip


def twenty_one() -> list[Result]:
    """One quirk, 21 scenarios, the same mistake in each (the issue's count)."""
    return [scenario(f"s{i:02d}", [off_by_one(f"live: s{i:02d}")]) for i in range(21)]


def console_text(results: list[Result]) -> str:
    out = io.StringIO()
    print_results(results, SPEC, Console(file=out, width=200, highlight=False), title="respkit check")
    return out.getvalue()


# -- one root cause, one finding


def test_a_mistake_seen_in_21_scenarios_is_one_finding_with_its_count_and_places(tmp_path: Path) -> None:
    results = twenty_one()
    text = console_text(results)
    assert text.count(f"[failure] stream_sequence_numbers_increase: {MESSAGE}") == 1, text
    assert "(21 times in 21 scenarios)" in text and "; and 18 more" in text
    assert "live: s00 event #3 (sequence_number 2)" in text and "live: s03" not in text
    assert "reproduce (the first place): curl" in text and text.count("reproduce") == 1

    markdown = to_markdown(results, SPEC, "respkit check")
    assert markdown.count(MESSAGE) == 1 and "(21 times in 21 scenarios)" in markdown
    [cause] = json.loads(to_json(results, SPEC))["findings"]
    assert cause["count"] == 21 and len(cause["places"]) == 21 and cause["expected"] == "3"
    args = argparse.Namespace(command="check", html=str(tmp_path / "r.html"), junit_xml=str(tmp_path / "r.xml"))
    write_reports(results, SPEC, args)
    assert (tmp_path / "r.html").read_text().count(MESSAGE) == 1


def test_junit_tells_a_mistake_repeated_in_one_stream_once_per_test_case(tmp_path: Path) -> None:
    results = [scenario("a", [off_by_one("live: a", event) for event in range(3, 8)])]
    write_reports(results, SPEC, argparse.Namespace(command="check", junit_xml=str(tmp_path / "r.xml")))
    failure = ET.parse(tmp_path / "r.xml").getroot().find(".//testcase/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.count(MESSAGE) == 1 and "5 times in 1 scenario)" in failure.text
    assert "events #3 (sequence_number 2), #4 (sequence_number 3), #5 (sequence_number 4) and 2 more" in failure.text


def test_different_messages_or_places_stay_apart() -> None:
    found = [off_by_one("live: a"), off_by_one("live: b", message="another message"), off_by_one("live: c")]
    found.append(Finding(**{**off_by_one("live: d").__dict__, "pointer": "/other"}))
    assert [g.count for g in group(found)] == [2, 1, 1]


def test_messages_that_differ_only_in_their_numbers_are_one_root_cause() -> None:
    found = [off_by_one(f"live: {name}", message=f"no event has a sequence_number ({n} events)") for name, n in
             (("a", 16), ("b", 26), ("c", 9))]  # fmt: skip
    [cause] = group(found)
    assert (
        cause.count == 3 and cause.first.message.endswith("(16 events)") and cause.times() == "3 times in 3 scenarios"
    )


def test_a_quirk_repeated_in_every_stream_is_one_console_finding(tmp_path: Path) -> None:
    with run_server(quirks="repeated-sequence") as url:
        result = subprocess.run(
            [sys.executable, "-m", "respkit.conformance", "check", "--base-url", url, "--no-schemathesis",
             "--scenario", "text_stream", "--scenario", "stream_without_obfuscation", "--no-reports"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "OPENAI_API_KEY": "k"},
        )  # fmt: skip
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("[failure] stream_sequence_numbers_increase")]
    assert len(lines) == 1 and lines[0].endswith("(2 times in 2 scenarios)"), result.stdout[-3000:]


# -- expected and received


def test_two_checks_of_the_same_value_state_expected_and_received_alike() -> None:
    s = Stream.load("openai/text_stream_gpt-4o-mini.sse")
    s.first("response.output_text.delta")["delta"] += "QQQ"
    found = {f.check: f for f in s.findings()}
    for check in ("stream_deltas_match_done", "stream_part_matches_value"):
        assert "QQQ" in found[check].received and "QQQ" not in found[check].expected, (check, found[check])


def test_long_strings_show_where_they_first_differ() -> None:
    done = "lighthouse " * 200
    deltas = done[:1500] + "X" + done[1501:]
    expected, received = contrast(done, deltas)
    assert "(first difference at character 1500 of 2200)" in expected and received.endswith("of 2200)")
    assert len(expected) < 260 and "X" in received and "X" not in expected
    assert contrast("short", "other") == ("short", "other")


# -- context


@pytest.fixture
def run_args(tmp_path: Path) -> argparse.Namespace:
    names = ("junit_xml", "json_report", "markdown", "html", "markdown_summary")
    paths = {name: str(tmp_path / f"r.{name}") for name in names}
    url = "https://user:secret-pass@api.example.test/v1?api-key=abcdef&api-version=2025"
    started = datetime.now(UTC) - timedelta(seconds=90)
    return argparse.Namespace(command="check", base_url=url, started=started, **paths)


def test_reports_carry_their_context(tmp_path: Path, run_args: argparse.Namespace) -> None:
    results = [
        scenario("text_stream", [off_by_one("live: text_stream")], seconds=1.5),
        scenario("rec.sse", [], 0, False),
    ]
    write_reports(results, SPEC, run_args, Coverage(("createResponse",), ("createResponse",), 3, ("a",)))
    target = "https://api.example.test/v1?api-key=***&api-version=2025"
    report = json.loads(Path(run_args.json_report).read_text())
    context = report["context"]
    assert context["target"] == target and context["profiles"] == ["openai"] and context["spec"] == SPEC
    assert context["respkit"] and 89 < context["seconds"] < 3600 and context["started"].endswith("+00:00")
    summary = report["summary"]
    assert (summary["live_scenarios"], summary["failed_live_scenarios"], summary["recordings"]) == (1, 1, 1)
    assert report["recordings"][0]["seconds"] == 1.5
    root = ET.parse(run_args.junit_xml).getroot()
    case = root.find(".//testcase[@name='live: text_stream']")
    assert case is not None and case.get("time") == "1.500" and float(root.get("time") or 0) > 89
    failure = case.find("failure")
    assert failure is not None and "expected 3, received 2" in (failure.get("message") or "")
    assert {p.get("name"): p.get("value") for p in root.iter("property")}["target"] == target
    for path in (run_args.markdown, run_args.html, run_args.markdown_summary):
        text = Path(path).read_text()
        assert target.replace("&", "&amp;" if path == run_args.html else "&") in text and SPEC in text
        assert "secret-pass" not in text and "abcdef" not in text
    assert "| duration |" in Path(run_args.markdown).read_text()


def test_report_files_are_readable_by_the_group_and_written_whole(tmp_path: Path, run_args: argparse.Namespace) -> None:
    old = os.umask(0o077)
    try:
        write_reports(twenty_one(), SPEC, run_args)
    finally:
        os.umask(old)
    written = sorted(tmp_path.iterdir())
    assert len(written) == 5 and all(p.stat().st_mode & 0o777 == 0o644 for p in written)
    assert not [p for p in written if p.name.startswith(".")]  # no temporary file left


# -- the pull request comment


def huge_run() -> list[Result]:
    """Thousands of distinct failures and deviations, each with a long reproduce line."""
    results = []
    for i in range(3000):
        tag = "".join(chr(ord("a") + int(digit)) for digit in str(i))  # distinct words: numbers would group
        failure = off_by_one(f"live: s{i}", message=f"{MESSAGE} ({tag})")
        deviation = Finding(**{**failure.__dict__, "severity": Severity.DEVIATION, "message": f"deviation {tag}"})
        results.append(scenario(f"s{i}", [failure, deviation]))
    return results


def test_the_markdown_summary_stays_under_a_pull_request_comments_limit(
    tmp_path: Path, run_args: argparse.Namespace
) -> None:
    results = huge_run()
    write_reports(results, SPEC, run_args)
    whole, summary = Path(run_args.markdown).read_text(), Path(run_args.markdown_summary).read_text()
    assert len(whole) > 10 * COMMENT_LIMIT and len(summary) < COMMENT_LIMIT
    verdict, failures = summary.index("Verdict: **failed**"), summary.index("## Failures (3000)")
    assert verdict < failures < summary.index("[failure]")
    assert summary.count("<details>") == summary.count("</details>")
    last = summary.rstrip().splitlines()[-1]
    assert last.startswith("**Cut to stay under 65,536 characters** (not shown: ") and run_args.markdown in last
    assert re.search(
        r"not shown: \d+ of 3000 failures; .*3000 of 3000 deviation, drift or undocumented findings\)", last
    )


def test_deviations_and_drift_are_folded_after_the_failures() -> None:
    results = [scenario("a", [off_by_one("live: a")]), scenario("b", [huge_run()[0].findings[1]])]
    text = to_markdown(results, SPEC, "respkit check")
    assert text.index("[failure]") < text.index("<details><summary>Deviations") < text.index("[deviation]")


# -- plurals


def test_counts_take_the_right_plural() -> None:
    one = [scenario("a.sse", [off_by_one("a.sse")], live=False)]
    assert tally(one) == "1 recording: 1 failed; 1 failure, 0 deviations, 0 drift"
    two = [*one, scenario("b.sse", [off_by_one("b.sse")], live=False)]
    assert tally(two) == "2 recordings: 2 failed; 1 failure (2 findings), 0 deviations, 0 drift"
    assert tally([scenario("a", [])]) == "1 live scenario: 0 failed; 0 failures, 0 deviations, 0 drift"
    assert Coverage(("x",), ("x",), 1, ()).line().startswith("coverage: 1 of 1 operation answered 2xx; 0 of 1 stream")
    junit = ET.fromstring(_junit(one)).find(".//failure")
    assert junit is not None and (junit.get("message") or "").startswith("1 failure: ")


def test_a_check_counts_one_event_in_the_singular() -> None:
    s = Stream.load("openai/text_stream_gpt-4o-mini.sse")
    del s.first("response.output_text.delta")["sequence_number"]
    [found] = [f for f in s.findings() if f.check == "stream_sequence_number_present"]
    assert found.message.startswith("sequence_number missing from 1 event while others have it"), found.message


def _junit(results: list[Result]) -> str:
    from respkit.conformance.reports import to_junit

    return to_junit(results, SPEC)


# -- choosing checks


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    stream = tmp_path / "broken.sse"
    stream.write_text("event: response.created\ndata: not json\n\n" * 3)
    return stream


def replay_checks(stream: Path, *args: str) -> tuple[int, set[str]]:
    report = stream.parent / "r.json"
    code = main(["replay", str(stream), "--profile", "openai", "--json", str(report), *args])
    return code, {f["check"] for r in json.loads(report.read_text())["recordings"] for f in r["findings"]}


def test_check_and_exclude_check_choose_what_is_reported(broken: Path) -> None:
    code, every = replay_checks(broken)
    assert code == 1 and "sse_data_is_json" in every and len(every) > 1
    assert replay_checks(broken, "--check", "sse_data_is_json") == (1, {"sse_data_is_json"})
    assert replay_checks(broken, "--check", "stream_created_once") == (0, set())
    excluded = [arg for check in sorted(every) for arg in ("--exclude-check", check)]
    assert replay_checks(broken, *excluded) == (0, set())


def test_an_unknown_check_id_is_one_line_naming_close_ones(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(broken), "--check", "stream_sequence_number_increase"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--check stream_sequence_number_increase: no check has this id" in err
    assert "did you mean stream_sequence_numbers_increase" in err
    assert main(["replay", str(broken), "--exclude-check", "bad_key_is_40"]) == 2
    assert "did you mean bad_key_is_401" in capsys.readouterr().err


# -- [tool.respkit]


@pytest.fixture
def project(tmp_path: Path, broken: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path / "pyproject.toml"


def test_defaults_come_from_tool_respkit_and_the_command_line_wins(project: Path, broken: Path) -> None:
    project.write_text(
        '[project]\nname = "x"\n\n[tool.respkit]\njson = "from-config.json"\nprofile = "openai"\n'
        'exclude_check = ["sse_data_is_json"]\nmax-findings = 1\n'
    )
    assert main(["replay", str(broken)]) == 1
    checks = {f["check"] for r in json.loads(Path("from-config.json").read_text())["recordings"] for f in r["findings"]}
    assert checks and "sse_data_is_json" not in checks
    Path("from-config.json").unlink()
    assert main(["replay", str(broken), "--json", "given.json", "--exclude-check", "sse_event_matches_type"]) == 1
    assert not Path("from-config.json").exists()
    checks = {f["check"] for r in json.loads(Path("given.json").read_text())["recordings"] for f in r["findings"]}
    assert "sse_data_is_json" in checks and "sse_event_matches_type" not in checks  # the given list replaces


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('base_ulr = "http://x"', "[tool.respkit] base_ulr: no respkit option --base-ulr (did you mean base-url"),
        ('timeout = "soon"', "[tool.respkit] timeout: expected a number, not 'soon'"),
        ("no-reports = 1", "[tool.respkit] no-reports: expected true or false, not 1"),
    ],
)
def test_a_bad_tool_respkit_key_is_one_line_naming_the_file_and_key(
    project: Path, broken: Path, table: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_text(f"[tool.respkit]\n{table}\n")
    assert main(["replay", str(broken)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"respkit: error: pyproject.toml: {said}")


# -- help


def test_help_names_the_exit_codes_and_gives_an_example() -> None:
    for args in (["--help"], ["check", "--help"]):
        out = subprocess.run(
            [sys.executable, "-m", "respkit.conformance", *args], capture_output=True, text=True, cwd=REPO, timeout=60
        ).stdout
        flat = " ".join(out.split())
        assert "exit codes: 0 conformant" in flat and "2 usage or configuration error, 3 target unreachable" in flat
        assert "examples:\n  respkit check" in out and "--base-url https://api.openai.com/v1" in out


def test_every_option_has_help_that_names_its_default() -> None:
    formatter = HelpFormatter("respkit")
    missing = []
    for name, actions in long_options(build_parser()).items():
        for action in actions:
            text = formatter._get_help_string(action) or ""
            takes_value = action.nargs != 0 and not action.required
            if not text or (takes_value and "default" not in text):
                missing.append(f"--{name}: {text!r}")
    assert not missing, missing


# -- the pytest plugin

USER_TEST = """
import httpx

def test_a_broken_body_fails(respkit_target, assert_conformant):
    url, key = respkit_target
    r = httpx.post(url + "/responses", json={"model": "gpt-4.1-mini", "input": "hi"},
                   headers={"Authorization": f"Bearer {key}"}, timeout=30)
    body = r.content.replace(b'"status"', b'"statu"')
    assert_conformant(httpx.Response(200, headers={"content-type": "application/json"}, content=body,
                                     request=r.request))
"""


def test_the_pytest_plugins_failure_shows_expected_received_and_a_reproduce_line(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "test_user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=pytest_env(),
    )  # fmt: skip
    out = result.stdout
    assert "1 failed" in out and re.search(r"\d+ conformance failures?:", out), out[-3000:]
    assert "expected: present (required)" in out and "received: " in out
    assert re.search(r"reproduce: curl -sS -X POST http://127\.0\.0\.1:\d+/v1/responses", out), out[-3000:]
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in out and '-d \'{"model": "gpt-4.1-mini"' in out


def test_the_readmes_tool_respkit_example_is_accepted(tmp_path: Path) -> None:
    from respkit.conformance.defaults import apply

    [example] = re.findall(r"```toml\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)
    (tmp_path / "pyproject.toml").write_text(example)
    parser = build_parser()
    apply(parser, tmp_path / "pyproject.toml")
    args = parser.parse_args(["check"])
    assert args.base_url == "https://gateway.example.com/v1" and args.excluded_checks == ["bad_key_is_401"]
