"""respkit's checks as pytest items, spread over two pytest-xdist workers (`-n 2 -p xdist`) in a fresh
process, as a team would run them: each item's verdict is the one `respkit replay` / `respkit check` gives
(computed here in-process with the same engine), and the workers' results are merged into one report."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from respkit.conformance.commands import replay_recordings
from respkit.conformance.live import Session, run_scenarios
from respkit.conformance.live.ws import for_transport
from respkit.conformance.profiles import load_profile
from respkit.conformance.providers import ProvidersError, load_providers
from respkit.conformance.recordings import HERE as BUNDLED
from respkit.conformance.replay import Result
from respkit.conformance.server import run_server
from tests.paths import CORPUS, REPO

KEY = "sk-respkit-scaleout-4b3a29180716"
MODEL, REASONING = "gpt-4.1-mini", "o4-mini"


def pytest_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh process, in a folder without tests, with two xdist workers and a JUnit report."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "xdist", "-n", "2", "-q"]
    env = {**os.environ, "SCALEOUT_KEY": KEY}
    return subprocess.run(
        [*command, "--junitxml", str(cwd / "junit.xml"), *args],
        cwd=cwd, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """Each item's (outcome, message), by its id without the leading `respkit::`, from pytest's own JUnit."""
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        nodeid = case.get("classname", "").replace(".", "::") + "::" + case.get("name", "")
        name = nodeid.removeprefix("respkit::")
        node = next((n for n in case if n.tag in ("failure", "error", "skipped")), None)
        found[name] = ("passed", "") if node is None else (node.tag, node.get("message", "") + (node.text or ""))
    return found


def report(folder: Path) -> dict[str, bool]:
    """The merged JSON report: each recording's resolved path and whether it failed."""
    data = json.loads((folder / "respkit-pytest.json").read_text(encoding="utf-8"))
    return {str((folder.parent / e["recording"]).resolve()): _failed(e) for e in data["recordings"]}


def _failed(entry: dict[str, object]) -> bool:
    return any(f["severity"] == "failure" for f in entry["findings"])  # type: ignore[attr-defined, index]


def expected(paths: list[Path]) -> dict[str, bool]:
    """What `respkit replay` says of each recording: its resolved path and whether it failed."""
    return {str(r.recording.path.resolve()): r.failed for r in replay_recordings(paths)}


def assert_same_as_replay(folder: Path, tmp_path: Path) -> None:
    result = pytest_run(tmp_path, "--respkit-replay", str(folder), "--respkit-report-dir", str(tmp_path / "rep"))
    want = expected([folder])
    failed = sum(want.values())
    assert result.returncode == (1 if failed else 0), result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{len(want) - failed} passed" in result.stdout, result.stdout[-2000:]
    assert len(outcomes(tmp_path / "junit.xml")) == len(want)
    assert report(tmp_path / "rep") == want  # both workers' results, merged on the controller


@pytest.mark.slow
def test_the_bundled_recordings_spread_over_two_workers_as_replay_checks_them(tmp_path: Path) -> None:
    assert_same_as_replay(BUNDLED, tmp_path)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus (../shared/corpus) is absent")
@pytest.mark.slow
def test_the_shared_corpus_spreads_over_two_workers_as_replay_checks_it(tmp_path: Path) -> None:
    assert_same_as_replay(CORPUS, tmp_path)


@pytest.mark.slow
def test_a_broken_recording_fails_its_item_with_the_check_id(tmp_path: Path) -> None:
    folder = tmp_path / "broken" / "openai"  # the folder's name is the profile, as in the bundled layout
    shutil.copytree(BUNDLED / "openai", folder)
    body = (folder / "text_input.json").read_bytes()
    (folder / "text_input.json").write_bytes(body.replace(b'"status"', b'"statu"'))
    [broken] = [r for r in replay_recordings([folder]) if r.failed]
    checks = {f.check for f in broken.findings if f.fails}
    result = pytest_run(tmp_path, "--respkit-replay", str(tmp_path / "broken"))
    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout[-3000:]
    verdicts = outcomes(tmp_path / "junit.xml")
    outcome, message = verdicts["replay::broken/openai/text_input.json"]
    assert outcome == "failure" and checks and all(c in message for c in checks), message
    assert [v for v in verdicts.values() if v[0] != "passed"] == [(outcome, message)]


@pytest.fixture(scope="module")
def faithful() -> Iterator[str]:
    with run_server(api_keys={KEY}) as url:
        yield url


def engine(url: str, profile: str, names: list[str] | None = None) -> dict[str, str]:
    """What `respkit check` says of each scenario: failure, skipped or passed."""
    with Session(url, KEY, "SCALEOUT_KEY", timeout=30) as session:
        results = run_scenarios(session, load_profile(profile), MODEL, REASONING, names)
    return {r.recording.display.removeprefix("live: "): _verdict(r) for r in results}


def _verdict(result: Result) -> str:
    return "failure" if result.failed else "skipped" if result.recording.skipped else "passed"


@pytest.mark.slow
def test_a_base_url_makes_one_item_per_scenario_with_the_checks_verdicts(tmp_path: Path, faithful: str) -> None:
    target = ["--respkit-base-url", faithful, "--respkit-api-key-env", "SCALEOUT_KEY"]
    listed = pytest_run(tmp_path, *target, "--collect-only")
    ids = [line for line in listed.stdout.splitlines() if line.startswith("respkit::")]
    assert ids == [f"respkit::live::{n}[openai]" for n in [*for_transport("http"), "schemathesis"]], listed.stdout
    result = pytest_run(tmp_path, *target, "--respkit-reasoning-model", REASONING, "--respkit-no-schemathesis")
    got = {
        name.removeprefix("live::").removesuffix("[openai]"): v[0]
        for name, v in outcomes(tmp_path / "junit.xml").items()
    }
    assert got == engine(faithful, "openai"), result.stdout[-3000:]


PROVIDERS = """
targets:
  - name: faithful
    base_url: {faithful}
    api_key_env: SCALEOUT_KEY
    profiles: [openai, strict]
    scenarios: [text, text_stream]
  - name: broken
    base_url: {broken}
    api_key_env: SCALEOUT_KEY
    profile: openai
    models: {{text: gpt-4.1-mini}}
    scenarios: [text, text_stream]
"""


@pytest.mark.slow
def test_a_providers_file_makes_a_matrix_of_targets_and_profiles(tmp_path: Path, faithful: str) -> None:
    with run_server(quirks="no-terminal", api_keys={KEY}) as broken:
        (tmp_path / "providers.yaml").write_text(PROVIDERS.format(faithful=faithful, broken=broken))
        result = pytest_run(tmp_path, "--respkit-providers", "providers.yaml", "--respkit-report-dir", "rep")
        names = ["text", "text_stream"]
        want = {
            f"{target}::{name}[{profile}]": verdict
            for target, url, profile in (
                ("faithful", faithful, "openai"),
                ("faithful", faithful, "strict"),
                ("broken", broken, "openai"),
            )
            for name, verdict in engine(url, profile, names).items()
        }
    verdicts = outcomes(tmp_path / "junit.xml")
    assert {name: v[0] for name, v in verdicts.items()} == want, result.stdout[-3000:]
    assert want["broken::text_stream[openai]"] == "failure"
    assert "stream_ends_with_terminal" in verdicts["broken::text_stream[openai]"][1]
    assert result.returncode == 1
    merged = json.loads((tmp_path / "rep" / "respkit-pytest.json").read_text(encoding="utf-8"))
    assert {e["provider"] for e in merged["recordings"]} == {"faithful", "broken"}
    assert len(merged["recordings"]) == 6


def test_the_readme_providers_file_reads(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "targets:" in b]
    (tmp_path / "providers.yaml").write_text(textwrap.dedent(example))
    targets = load_providers(tmp_path / "providers.yaml", "openai")
    assert [t.label for t in targets] == ["openrouter[openrouter]", "openrouter[openai]", "lmstudio[lmstudio]"]


def test_a_toml_providers_file_reads_as_the_yaml_one(tmp_path: Path) -> None:
    toml = tmp_path / "providers.toml"
    toml.write_text(
        '[[targets]]\nname = "local"\nbase_url = "http://127.0.0.1:1/v1"\nprofiles = ["openai", "strict"]\n'
        '[targets.models]\ntext = "m"\n'
    )
    [first, second] = load_providers(toml, "openai")
    assert (first.label, second.label, first.model, first.key_env) == ("local[openai]", "local[strict]", "m", None)


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ("targets: []\n", "at /targets:"),
        ("targets: [{name: x, base_url: 'ftp://h'}]\n", "at /targets/0/base_url: expected an http"),
        ("targets: [{name: x, base_url: 'http://h', scenarios: [nope]}]\n", "at /targets/0/scenarios: expected"),
        ("targets: [{name: x, base_url: 'http://h', colour: red}]\n", "at /targets/0/colour: unknown member"),
        ("targets: [{base_url: 'http://h'}]\n", "at /targets/0/name: required"),
    ],
)
def test_a_bad_providers_file_names_the_pointer(tmp_path: Path, text: str, pointer: str) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(text)
    with pytest.raises(ProvidersError, match=pointer):
        load_providers(path, "openai")


def test_pytest_says_a_bad_providers_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text("targets: [{name: x, base_url: 'http://h', timeout: 0}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--respkit-providers", str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 4 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (
        "--respkit-providers" in result.stderr and "at /targets/0/timeout: expected a positive number" in result.stderr
    )


def test_without_its_options_the_plugin_adds_no_item(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--collect-only", "-q"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0 and "1 test collected" in result.stdout and "respkit::" not in result.stdout
