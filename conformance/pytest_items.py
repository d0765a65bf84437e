"""respkit's checks as pytest items, so that pytest-xdist spreads them over cores and machines.

`--respkit-replay DIR` makes one item per recording (checked as `respkit replay` checks it, under its
folder's profile); `--respkit-base-url URL` and `--respkit-providers FILE` make one item per live scenario
of each target and profile, plus one for the schemathesis phase. An item runs the same engine functions
as the commands (`replay_recordings`, `run_scenarios`, `run_fuzz`), fails with the failures' text and skips
with a scenario's skip reason; deviations and drift do not fail it.

The results behind the verdicts travel to the process that writes the reports (`--respkit-report-dir`):
under xdist, each worker hands its own to the controller in `workeroutput`, merged in
`pytest_testnodedown`. All of this is active only when one of those options is given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from respkit.conformance.cli import TargetUnreachable, UsageError
from respkit.conformance.commands import replay_recordings
from respkit.conformance.findings import Finding, Severity, count, group
from respkit.conformance.limits import current
from respkit.conformance.live.commands import LOCAL_MODEL
from respkit.conformance.live.runner import DEFAULT_CONCURRENCY, run_scenarios
from respkit.conformance.live.session import Session
from respkit.conformance.live.ws import for_transport
from respkit.conformance.profiles import DEFAULT, Profile, ProfileError, load_profile
from respkit.conformance.providers import ProvidersError, Target, load_providers
from respkit.conformance.replay import Recording, RecordingError, Result, discover
from respkit.conformance.reports import REPORT_OPTIONS, describe, write_reports

#: failures shown in one item's message (the reports keep them all)
SHOWN = 20
#: the results a worker hands to the controller, in its `workeroutput`
OUTPUT_KEY = "respkit_results"
#: the name of the schemathesis phase's item in each target
FUZZ = "schemathesis"

Phase = Callable[[Session, Profile], list[Result]]


def configure(config: pytest.Config) -> None:
    """Register the run (the plugin calls this only when an option asks for items)."""
    opt = config.getoption
    replay = [Path(p).resolve() for p in opt("--respkit-replay") or []]
    run = Run(replay, _targets(config), opt("--respkit-report-dir"), opt("--respkit-profile"))
    run.deadline = _positive(opt("--respkit-deadline"), "--respkit-deadline")
    config.stash[RUN] = run
    config.pluginmanager.register(run, "respkit-run")


def _positive(value: float, option: str) -> float:
    if value <= 0:
        raise pytest.UsageError(f"{option} {value:g}: expected a positive number of seconds")
    return value


def _targets(config: pytest.Config) -> list[Target]:
    """The targets of `--respkit-base-url` and of `--respkit-providers`, in that order."""
    opt = config.getoption
    default = opt("--respkit-profile") or DEFAULT
    targets = [_command_line_target(config, default)] if opt("--respkit-base-url") else []
    if opt("--respkit-providers"):
        try:
            targets += load_providers(Path(opt("--respkit-providers")), default)
        except ProvidersError as exc:
            raise pytest.UsageError(f"--respkit-providers: {exc}") from None
    if opt("--respkit-no-schemathesis"):
        targets = [replace(t, schemathesis=False) for t in targets]
    return targets


def _command_line_target(config: pytest.Config, profile: str) -> Target:
    opt = config.getoption
    url = opt("--respkit-base-url")
    if not url.startswith(("http://", "https://")):
        raise pytest.UsageError(f"--respkit-base-url {url!r}: expected an http:// or https:// URL")
    return Target(
        name="live",
        base_url=url,
        key_env=None if opt("--respkit-no-auth") else opt("--respkit-api-key-env"),
        profile=profile,
        model=opt("--respkit-model"),
        reasoning_model=opt("--respkit-reasoning-model"),
        timeout=_positive(opt("--respkit-timeout"), "--respkit-timeout"),
    )


class Run:
    """This process's part of a pytest run: what to collect, the open live sessions, and the results
    (on the controller, or in a run without xdist, every process's results)."""

    def __init__(self, replay: list[Path], targets: list[Target], report_dir: str | None, profile: str | None) -> None:
        self.replay, self.targets, self.profile = replay, targets, profile
        self.report_dir = Path(report_dir) if report_dir else None
        self.deadline = current().deadline
        self.started = datetime.now(UTC)
        self.connections: dict[Target, Connection] = {}
        #: (collection order, packed result): the same order on every worker, as they collect alike
        self.results: list[tuple[int, dict[str, Any]]] = []
        self.collected = 0
        self.written: list[str] = []

    def order(self) -> int:
        self.collected += 1
        return self.collected

    def connection(self, target: Target) -> Connection:
        if target not in self.connections:
            self.connections[target] = Connection(target, self.deadline)
        return self.connections[target]

    def record(self, order: int, results: list[Result]) -> None:
        self.results += [(order, pack(r)) for r in results]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[pytest.Item]) -> None:
        """Add the items before `-k`, `-m` and `--deselect` choose among them; through `genitems`, so that
        they are counted and reported as collected like any other."""
        root = Checks.from_parent(session, name="respkit", nodeid="respkit")
        root.add_marker(pytest.mark.respkit)
        items.extend(session.genitems(root))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist: a worker is done; take its results (a worker that died hands none: pytest fails its items)."""
        packed = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
        if packed:
            self.results += [(order, data) for order, data in json.loads(packed)]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for connection in self.connections.values():
            connection.close()
        output = getattr(session.config, "workeroutput", None)
        if output is not None:
            output[OUTPUT_KEY] = json.dumps(self.results)
        elif self.report_dir is not None and self.results:
            self.written = write(self, [unpack(d) for _, d in sorted(self.results, key=lambda r: r[0])])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written:
            terminalreporter.write_line(f"respkit reports: {', '.join(self.written)}")


def write(run: Run, results: list[Result]) -> list[str]:
    """The reports of `respkit replay` / `check` (every format), as DIR/respkit-pytest.*; the paths written."""
    from argparse import Namespace

    from respkit.conformance.schema import default_validators

    assert run.report_dir is not None
    paths = {attr: str(run.report_dir / f"respkit-pytest.{suffix}") for attr, suffix in REPORT_OPTIONS}
    urls = sorted({t.base_url for t in run.targets})
    # the context names one target; a matrix's targets are named by their results
    url = urls[0] if len(urls) == 1 and not run.replay else None
    args = Namespace(command="pytest", started=run.started, paths=[str(p) for p in run.replay], base_url=url, **paths)
    write_reports(results, str(default_validators().version), args)
    return list(paths.values())


RUN = pytest.StashKey[Run]()


def pack(result: Result) -> dict[str, Any]:
    """A result as JSON-ready data (what crosses from a worker to the controller)."""
    rec = {f.name: getattr(result.recording, f.name) for f in fields(Recording)}
    rec["path"] = str(rec["path"])
    rec["resumes"] = [str(rec["resumes"][0]), rec["resumes"][1]] if rec["resumes"] else None
    return {"recording": rec, "findings": [f.to_dict() for f in result.findings], "seconds": result.seconds}


def unpack(data: dict[str, Any]) -> Result:
    rec = dict(data["recording"])
    rec["path"] = Path(rec["path"])
    rec["artifacts"] = tuple(tuple(a) for a in rec["artifacts"])
    rec["drift"] = tuple(tuple(d) for d in rec["drift"])
    rec["resumes"] = (Path(rec["resumes"][0]), rec["resumes"][1]) if rec["resumes"] else None
    findings = [Finding(**{**f, "severity": Severity(f["severity"])}) for f in data["findings"]]
    return Result(Recording(**rec), findings, data["seconds"])


class Connection:
    """One target's session in this process, opened by its first item and closed at the end of the run.
    What ends a live run (the target unreachable or past its deadline, the key refused) fails that item and
    every later item of the target at once, instead of each waiting for its own timeout."""

    def __init__(self, target: Target, deadline: float) -> None:
        self.target, self.deadline = target, deadline
        self.session: Session | None = None
        self.fatal = ""

    def run(self, phase: Phase) -> list[Result]:
        if self.fatal:
            pytest.fail(f"not run: {self.fatal}", pytrace=False)
        try:
            return phase(self._open(), load_profile(self.target.profile))
        except (TargetUnreachable, UsageError) as exc:
            self.fatal = str(exc)
        pytest.fail(self.fatal, pytrace=False)  # out of the `except`: the one line, not the chain

    def _open(self) -> Session:
        if self.session is None:
            target = self.target
            limits = replace(current(), deadline=self.deadline)
            key = _key(target)
            session = Session(target.base_url, key, target.key_env or "", timeout=target.timeout, limits=limits)
            self.session = session.__enter__()
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.__exit__(None, None, None)


def _key(target: Target) -> str | None:
    """The target's key; None for a keyless target, or (as `respkit check` does) when its variable is empty
    or not set: a target that needs a key then refuses the first request, which names the variable."""
    return os.environ.get(target.key_env) or None if target.key_env else None


class Checks(pytest.Collector):
    """`respkit`: the recordings, then each target's scenarios."""

    def collect(self) -> list[pytest.Collector]:
        run = self.config.stash[RUN]
        nodes: list[pytest.Collector] = []
        if run.replay:
            nodes.append(Recordings.from_parent(self, name="replay"))
        by_name: dict[str, list[Target]] = {}
        for target in run.targets:
            by_name.setdefault(target.name, []).append(target)
        return nodes + [Live.from_parent(self, name=name, targets=ts) for name, ts in by_name.items()]


def _profile(name: str, option: str) -> None:
    try:
        load_profile(name)
    except ProfileError as exc:
        raise pytest.Collector.CollectError(f"{option}: {exc}") from None


class Recordings(pytest.Collector):
    """`respkit::replay`: one item per recording, named by its folder and its path below it."""

    def collect(self) -> Iterator[RecordingItem]:
        run = self.config.stash[RUN]
        if run.profile:
            _profile(run.profile, "--respkit-profile")
        try:
            found = [(root, path) for root in run.replay for path in discover([root])]
        except RecordingError as exc:
            raise self.CollectError(str(exc)) from None
        if not found:  # a gate pointed at the wrong folder must not pass
            where = ", ".join(map(str, run.replay))
            raise self.CollectError(f"--respkit-replay: no recordings (.json, .sse, .error.json) in {where}")
        for root, path in found:
            name = root.name if path == root else f"{root.name}/{path.relative_to(root).as_posix()}"
            yield RecordingItem.from_parent(self, name=name, recording=path)


class Live(pytest.Collector):
    """`respkit::NAME`: a target's scenarios (those `respkit check` runs, unless the providers file names
    others) and its schemathesis phase, under each of its profiles: `respkit::NAME::text_stream[openai]`."""

    def __init__(self, *, targets: list[Target], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = targets

    def collect(self) -> Iterator[ScenarioItem]:
        for target in self.targets:
            _profile(target.profile, f"{target.name}: profile")
            names = [*(target.scenarios or for_transport("http")), *([FUZZ] if target.schemathesis else [])]
            for name in names:
                yield ScenarioItem.from_parent(self, name=f"{name}[{target.profile_id}]", scenario=name, target=target)


class CheckItem(pytest.Item):
    """An item whose verdict is that of respkit's results: failures fail it, a skip reason skips it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = self.config.stash[RUN]
        self.order = self.run.order()

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, self.nodeid

    def verdict(self, results: list[Result]) -> None:
        self.run.record(self.order, results)
        failed = [f for r in results for f in r.findings if f.fails]
        if failed:
            pytest.fail(failure_text(results, failed), pytrace=False)
        skipped = [r.recording.skipped for r in results if r.recording.skipped]
        if skipped:
            pytest.skip("; ".join(skipped))
        if not results:
            pytest.skip("the scenario sent no request")


def failure_text(results: list[Result], failed: list[Finding]) -> str:
    """The failures as the reports describe them, each root cause once: the first SHOWN, then how many more."""
    where = ", ".join(r.recording.display for r in results if r.failed)
    causes = group(failed)
    shown = "\n\n".join(describe(g) for g in causes[:SHOWN])
    more = f"\n\n... and {count(len(causes) - SHOWN, 'more root cause')}" if len(causes) > SHOWN else ""
    return f"{count(len(causes), 'conformance failure')} in {where}:\n\n{shown}{more}"


class RecordingItem(CheckItem):
    def __init__(self, *, recording: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recording = recording

    def runtest(self) -> None:
        self.verdict(self._replayed())

    def _replayed(self) -> list[Result]:
        """The recording checked as `respkit replay` checks it; one that cannot be read fails in one line."""
        try:
            return replay_recordings([self.recording], self.run.profile)
        except RecordingError as exc:
            unreadable = str(exc)
        pytest.fail(unreadable, pytrace=False)  # out of the `except`: the one line, not the chain


class ScenarioItem(CheckItem):
    def __init__(self, *, scenario: str, target: Target, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario, self.target = scenario, target

    def runtest(self) -> None:
        self.verdict(self.run.connection(self.target).run(self._phase))

    def _phase(self, session: Session, profile: Profile) -> list[Result]:
        """The scenario (or the schemathesis phase, its cases as many at once as `respkit check` sends)
        as `respkit check` runs it."""
        if self.scenario == FUZZ:
            from respkit.conformance.live.fuzz import run_fuzz

            return [self._named(r) for r in run_fuzz(session, profile, concurrency=DEFAULT_CONCURRENCY)]
        model = self.target.model or profile.model or LOCAL_MODEL
        reasoning = self.target.reasoning_model or profile.reasoning_model
        return [self._named(r) for r in run_scenarios(session, profile, model, reasoning, [self.scenario])]

    def _named(self, result: Result) -> Result:
        """A result under its target's name, so that a matrix's reports tell its targets apart."""
        if self.target.name == "live":
            return result
        named = f"{self.target.label}: {result.recording.display}"
        return replace(result, recording=replace(result.recording, provider=self.target.name, display=named))
