"""respkit's checks as pytest items, spread over two pytest-xdist workers (`-n 2 -p xdist`) in a fresh
process, as a team would run them: each item's verdict is the one `respkit replay` / `respkit check` gives
(computed here in-process with the same engine), and the workers' results are merged into one report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
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
from tests.paths import CORPUS, REPO, pytest_env

KEY = "sk-respkit-scaleout-4b3a29180716"
MODEL, REASONING = "gpt-4.1-mini", "o4-mini"


def pytest_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh process, in a folder without tests, with two xdist workers and a JUnit report."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "xdist", "-n", "2", "-q"]
    env = pytest_env(SCALEOUT_KEY=KEY)
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


@dataclass(frozen=True)
class Ran:
    """A pytest run of respkit's items: its folder, its process, each item's (outcome, message) and the
    merged report."""

    folder: Path
    process: subprocess.CompletedProcess[str]
    items: dict[str, tuple[str, str]]
    entries: list[dict[str, Any]]

    def verdicts(self, prefix: str) -> dict[str, str]:
        """The outcome of each item whose id starts with ``prefix``, by the rest of its id."""
        return {name.removeprefix(prefix): v[0] for name, v in self.items.items() if name.startswith(prefix)}

    def failed_by_path(self, folder: Path) -> dict[str, bool]:
        """The merged report's recordings under ``folder``: each one's resolved path and whether it failed."""
        found = {}
        for entry in self.entries:
            path = (self.folder / entry["recording"]).resolve()
            if path.is_relative_to(folder.resolve()):
                found[str(path)] = any(f["severity"] == "failure" for f in entry["findings"])
        return found


def ran(cwd: Path, *args: str) -> Ran:
    result = pytest_run(cwd, *args, "--respkit-report-dir", str(cwd / "rep"))
    report = cwd / "rep" / "respkit-pytest.json"
    entries = json.loads(report.read_text(encoding="utf-8"))["recordings"] if report.exists() else []
    return Ran(cwd, result, outcomes(cwd / "junit.xml"), entries)


def expected(paths: list[Path]) -> dict[str, bool]:
    """What `respkit replay` says of each recording: its resolved path and whether it failed."""
    return {str(r.recording.path.resolve()): r.failed for r in replay_recordings(paths)}


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


# Two pytest runs (each a fresh process with two xdist workers) hold every item the tests below read: the
# items a team's gate passes (the bundled recordings, the shared corpus, a conformant server's scenarios),
# and the items that must fail among others (a broken recording, a providers file with a broken target).


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory, faithful: str) -> Ran:
    cwd = tmp_path_factory.mktemp("passing")
    folders = [BUNDLED, *([CORPUS] if CORPUS.is_dir() else [])]
    replay = [a for folder in folders for a in ("--respkit-replay", str(folder))]
    target = ["--respkit-base-url", faithful, "--respkit-api-key-env", "SCALEOUT_KEY"]
    return ran(cwd, *replay, *target, "--respkit-reasoning-model", REASONING, "--respkit-no-schemathesis")


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


@pytest.fixture(scope="module")
def broken_server() -> Iterator[str]:
    with run_server(quirks="no-terminal", api_keys={KEY}) as url:
        yield url


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory, faithful: str, broken_server: str) -> Ran:
    cwd = tmp_path_factory.mktemp("failing")
    folder = cwd / "broken" / "openai"  # the folder's name is the profile, as in the bundled layout
    shutil.copytree(BUNDLED / "openai", folder)
    body = (folder / "text_input.json").read_bytes()
    (folder / "text_input.json").write_bytes(body.replace(b'"status"', b'"statu"'))
    (cwd / "providers.yaml").write_text(PROVIDERS.format(faithful=faithful, broken=broken_server))
    return ran(cwd, "--respkit-replay", str(cwd / "broken"), "--respkit-providers", "providers.yaml")


def assert_same_as_replay(run: Ran, folder: Path) -> None:
    want = expected([folder])
    got = run.verdicts(f"replay::{folder.name}/")
    assert len(got) == len(want) and sum(v == "failure" for v in got.values()) == sum(want.values()), got
    assert run.failed_by_path(folder) == want  # both workers' results, merged on the controller


@pytest.mark.slow
def test_a_run_of_passing_items_passes_and_counts_each(passing: Ran) -> None:
    out = passing.process.stdout
    assert passing.process.returncode == 0, out[-3000:] + passing.process.stderr[-2000:]
    counts = {v[0]: list(v[0] for v in passing.items.values()).count(v[0]) for v in passing.items.values()}
    assert set(counts) <= {"passed", "skipped"} and len(passing.items) > 60, counts
    assert re.search(rf"\b{counts['passed']} passed, {counts.get('skipped', 0)} skipped\b", out), out[-2000:]


@pytest.mark.slow
def test_the_bundled_recordings_spread_over_two_workers_as_replay_checks_them(passing: Ran) -> None:
    assert_same_as_replay(passing, BUNDLED)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus (../shared/corpus) is absent")
@pytest.mark.slow
def test_the_shared_corpus_spreads_over_two_workers_as_replay_checks_it(passing: Ran) -> None:
    assert_same_as_replay(passing, CORPUS)


@pytest.mark.slow
def test_a_base_url_makes_one_item_per_scenario_with_the_checks_verdicts(
    tmp_path: Path, faithful: str, passing: Ran
) -> None:
    target = ["--respkit-base-url", faithful, "--respkit-api-key-env", "SCALEOUT_KEY"]
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "--collect-only"]
    listed = subprocess.run(
        [*command, *target], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=pytest_env()
    )
    ids = [line for line in listed.stdout.splitlines() if line.startswith("respkit::")]
    assert ids == [f"respkit::live::{n}[openai]" for n in [*for_transport("http"), "schemathesis"]], listed.stdout
    got = {name.removesuffix("[openai]"): v for name, v in passing.verdicts("live::").items()}
    assert got == engine(faithful, "openai"), passing.process.stdout[-3000:]


@pytest.mark.slow
def test_a_broken_recording_fails_its_item_with_the_check_id(failing: Ran) -> None:
    folder = failing.folder / "broken" / "openai"
    [broken] = [r for r in replay_recordings([folder]) if r.failed]
    checks = {f.check for f in broken.findings if f.fails}
    outcome, message = failing.items["replay::broken/openai/text_input.json"]
    assert outcome == "failure" and checks and all(c in message for c in checks), message
    assert {v for v in failing.verdicts("replay::").values()} == {"passed", "failure"}
    assert list(failing.verdicts("replay::").values()).count("failure") == 1
    assert failing.process.returncode == 1 and "failed" in failing.process.stdout


@pytest.mark.slow
def test_a_providers_file_makes_a_matrix_of_targets_and_profiles(
    failing: Ran, faithful: str, broken_server: str
) -> None:
    names = ["text", "text_stream"]
    want = {
        f"{target}::{name}[{profile}]": verdict
        for target, url, profile in (
            ("faithful", faithful, "openai"),
            ("faithful", faithful, "strict"),
            ("broken", broken_server, "openai"),
        )
        for name, verdict in engine(url, profile, names).items()
    }
    got = {name: v[0] for name, v in failing.items.items() if not name.startswith("replay::")}
    assert got == want, failing.process.stdout[-3000:]
    assert want["broken::text_stream[openai]"] == "failure"
    assert "stream_ends_with_terminal" in failing.items["broken::text_stream[openai]"][1]
    live = [e for e in failing.entries if e["provider"] in ("faithful", "broken")]
    assert {e["provider"] for e in live} == {"faithful", "broken"} and len(live) == 6


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
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=pytest_env(),
    )  # fmt: skip
    assert result.returncode == 4 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (
        "--respkit-providers" in result.stderr and "at /targets/0/timeout: expected a positive number" in result.stderr
    )


def test_without_its_options_the_plugin_adds_no_item(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--collect-only", "-q"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=pytest_env(),
    )  # fmt: skip
    assert result.returncode == 0 and "1 test collected" in result.stdout and "respkit::" not in result.stdout
