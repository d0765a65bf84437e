"""Run the live scenarios against a base URL and check every exchange with the conformance engine.

Scenarios run side by side on a bounded pool of threads (concurrent.futures; each scenario's own
requests stay in order): a provider's latency is spent waiting, and waits overlap. Each task runs in a
copy of the caller's context, so the run's bounds (`conformance.limits`) reach every worker."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from respkit.conformance.engine import check_error, check_json_body, check_operation_body, check_stream
from respkit.conformance.findings import Finding, Severity, Source, after_head
from respkit.conformance.live.scenarios import SCENARIOS, Conversation
from respkit.conformance.live.session import Exchange, KeyRefused, Session, Unreachable
from respkit.conformance.live.ws import for_transport
from respkit.conformance.profiles import Profile
from respkit.conformance.replay import Recording, Result
from respkit.conformance.schema import default_validators


def check_exchange(exchange: Exchange, profile: Profile) -> list[Finding]:
    """The engine's verdict on one exchange. Live traffic is never older than the spec, so what the
    engine would call spec drift in a recording is non-conformance here (unless the profile allows it)."""
    found = [_live(f, profile) for f in _engine_findings(exchange, profile)]
    if exchange.cut is not None:
        cut = exchange.failure(
            "body_read_completely",
            f"the connection failed before the body ended: {exchange.cut}",
            expected="a complete body",
            received=exchange.cut,
        )
        found.insert(0, profile.classify(cut))
    if exchange.bound is not None:
        found.insert(0, profile.classify(_bounded(exchange, exchange.bound)))
    return found


def _engine_findings(exchange: Exchange, profile: Profile) -> list[Finding]:
    """The engine's findings; of a body cut at respkit's own bound, only those on what it read whole."""
    if exchange.bound is None:
        return exchange.findings if exchange.findings is not None else _engine(exchange, profile)
    if exchange.kind != "stream":
        return []  # a part of a JSON body is not JSON: parsing it would be a false finding
    found = exchange.findings if exchange.findings is not None else _engine(exchange, profile)
    return before_cut(found)


def before_cut(findings: list[Finding]) -> list[Finding]:
    """A stream's findings without those that respkit's own cut made: the end-of-stream ones (no event),
    and those on the event the cut left unterminated."""
    cut_at = next((f.event_index for f in findings if f.check == "sse_event_terminated"), None)
    return [f for f in findings if f.event_index is not None and (cut_at is None or f.event_index < cut_at)]


def _bounded(exchange: Exchange, bound: str) -> Finding:
    """The finding that says a bound stopped the reading: unchecked is not passed."""
    what = "stream" if exchange.kind == "stream" else "body"
    return exchange.failure(
        "within_bounds",
        f"respkit stopped reading the {what} at its bound {bound}; raise the bound to check the rest",
        expected=f"a {what} within respkit's bounds",
        received=bound,
    )


def _live(finding: Finding, profile: Profile) -> Finding:
    if finding.severity is not Severity.DRIFT:
        return finding
    note = "live traffic cannot predate the spec: what a recording would excuse as drift fails here"
    return profile.classify(replace(finding, severity=Severity.FAILURE, basis="failure", note=note))


def stream_checker(profile: Profile) -> Callable[[Exchange, Iterator[bytes]], list[Finding]]:
    """Checks a live stream chunk by chunk while it arrives (the session keeps only its first bytes)."""

    def check(exchange: Exchange, chunks: Iterator[bytes]) -> list[Finding]:
        source = Source(f"live: {exchange.scenario}", exchange.operation, exchange.reproduce)
        return _resumed(
            exchange, check_stream(chunks, content_type=exchange.content_type, profile=profile, source=source)
        )

    return check


def _resumed(exchange: Exchange, findings: list[Finding]) -> list[Finding]:
    """A resumed stream's findings without those on the frames it continues (reported with that stream)."""
    return after_head(findings, exchange.head()[1])


def _engine(exchange: Exchange, profile: Profile) -> list[Finding]:
    source = Source(f"live: {exchange.scenario}", exchange.operation, exchange.reproduce)
    if exchange.kind == "error":
        return check_error(
            exchange.status, exchange.headers, exchange.body, content_type=exchange.content_type, profile=profile,
            source=source,
        )  # fmt: skip
    if exchange.kind == "stream":
        chunks = [exchange.head()[0], exchange.body]
        return _resumed(
            exchange, check_stream(chunks, content_type=exchange.content_type, profile=profile, source=source)
        )
    schema = default_validators().response_schemas.get(exchange.operation)
    if schema == "Response":
        return check_json_body(exchange.body, content_type=exchange.content_type, profile=profile, source=source)
    return check_operation_body(
        exchange.body, schema, operation=exchange.operation, content_type=exchange.content_type, profile=profile,
        source=source,
    )  # fmt: skip


#: scenarios (and schemathesis cases) in flight at once, unless `--concurrency` says otherwise
DEFAULT_CONCURRENCY = 8

T = TypeVar("T")
R = TypeVar("R")


class Watcher:
    """What a run tells while it goes (see `conformance.live.progress`); this one tells nothing."""

    def phase(self, name: str, total: int) -> None:
        """A phase of `total` tasks begins (the scenarios, the schemathesis cases)."""

    def started(self, label: str) -> None:
        """A task began."""

    def finished(self, label: str, failed: bool) -> None:
        """A task ended; `failed`: it found a failure."""


def pooled(
    func: Callable[[T], R], items: Sequence[T], concurrency: int, halt: Callable[[], None] = lambda: None
) -> list[R]:
    """`func` over `items`, at most `concurrency` at once, the results in the order of `items`. The first
    error (or Ctrl-C) ends the lot: what has not started is cancelled, `halt` stops what runs at its next
    step (a thread cannot be killed), and the error is raised."""
    if concurrency <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="respkit-live") as pool:
        futures = [pool.submit(contextvars.copy_context().run, func, item) for item in items]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:
            halt()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        failed = next((f for f in futures if f.done() and not f.cancelled() and f.exception()), None)
        if failed is not None:
            halt()
            pool.shutdown(wait=True, cancel_futures=True)
            failed.result()
        return [f.result() for f in futures]


def run_scenarios(
    session: Session,
    profile: Profile,
    model: str,
    reasoning_model: str | None,
    names: Sequence[str] | None = None,
    settle: Callable[[list[Exchange]], None] | None = None,
    *,
    concurrency: int = 1,
    watcher: Watcher | None = None,
) -> list[Result]:
    """Run the chosen scenarios (all by default), one `Result` per scenario, in the order they are listed,
    at most `concurrency` at once. `settle` gets each scenario's exchanges once they are checked (default:
    their bodies are released, keeping what the reports need); it is called by one scenario at a time."""
    session.stream_checker = stream_checker(profile)
    chosen = list(names or for_transport("http"))  # the WebSocket scenarios run when asked (`--transport`)
    run = _Run(session, profile, model, reasoning_model, settle or release, watcher or Watcher())
    run.watcher.phase("scenarios", len(chosen))
    return [r for r in pooled(run.scenario, chosen, concurrency, session.halt) if r is not None]


class _Run:
    """What every scenario of one run shares."""

    def __init__(
        self,
        session: Session,
        profile: Profile,
        model: str,
        reasoning_model: str | None,
        settle: Callable[[list[Exchange]], None],
        watcher: Watcher,
    ) -> None:
        self.session, self.profile, self.model, self.reasoning_model = session, profile, model, reasoning_model
        self.settle, self.watcher = settle, watcher
        self.settling = threading.Lock()

    def scenario(self, name: str) -> Result | None:
        """One scenario's `Result`, timed (None: it sent nothing and was not skipped)."""
        self.watcher.started(name)
        started = time.monotonic()
        conversation = Conversation(self.session, name, self.model, self.reasoning_model, profile=self.profile)
        first = len(self.session.exchanges)
        try:
            SCENARIOS[name](conversation)
        except (Unreachable, KeyRefused):
            raise
        except Exception as exc:  # a provider's answer so odd that the scenario could not go on
            if not self._exchanges(first, name):
                raise  # it failed before talking to the provider: respkit's own bug, not a finding
            conversation.findings.append(_crashed(name, exc, self._exchanges(first, name)[-1]))
        result = self._result(conversation, self._exchanges(first, name))
        if result is not None:
            result.seconds = time.monotonic() - started
        self.watcher.finished(name, result is not None and result.failed)
        return result

    def _exchanges(self, first: int, name: str) -> list[Exchange]:
        """The exchanges of scenario `name`, which began when the session had made `first` (the session's
        list mixes the scenarios that run side by side)."""
        return [e for e in self.session.exchanges[first:] if e.scenario == name]

    def _result(self, conversation: Conversation, exchanges: list[Exchange]) -> Result | None:
        name = conversation.name
        if not exchanges and not conversation.skipped:
            return None
        findings = [self.profile.classify(f) for f in conversation.findings]
        for exchange in exchanges:
            findings += check_exchange(exchange, self.profile)
        with self.settling:
            self.settle(exchanges)
        last = exchanges[-1] if exchanges else None
        recording = Recording(
            path=Path(f"live/{name}"),
            display=f"live: {name}",
            kind=last.kind if last else "json",
            provider=self.profile.name,
            profile=self.profile.name,
            status=last.status if last else None,
            content_type=last.content_type if last else None,
            live=True,
            skipped=conversation.skipped,
        )
        return Result(recording, [_with_reproduce(f, exchanges) for f in findings])


def release(exchanges: list[Exchange]) -> None:
    """Drop checked exchanges' bodies: a run keeps what its reports need, not every body it read."""
    for exchange in exchanges:
        exchange.release()


def _crashed(name: str, exc: Exception, last: Exchange) -> Finding:
    message = f"the answers stopped scenario {name}: {type(exc).__name__}: {exc}"
    return last.failure(
        "scenario_completes", message, expected="answers the scenario can read", received=type(exc).__name__
    )


def _with_reproduce(finding: Finding, exchanges: list[Exchange]) -> Finding:
    if finding.reproduce and not finding.reproduce.startswith("respkit replay"):
        return finding
    match = next((e for e in exchanges if e.operation == finding.operation), exchanges[-1])
    return replace(finding, reproduce=match.reproduce)
