"""The schemathesis phase of a live check: requests generated from the spec's operations, valid and
invalid, each answer checked by the engine, plus the one rule schemathesis is known for: a provider
never answers generated input with a 5xx.

schemathesis generates the cases (from the same bundle the checks use); respkit sends them with its own
session, so every request gets a reproduce line with the key as `$VAR` and the body as sent, and streams
are read whole (schemathesis alone stops reading a stream after a few events and knows nothing of their
order).

Drawing the cases takes seconds of CPU (Hypothesis, over the spec's large request schemas), so
`Generation` draws them in worker processes (concurrent.futures) while the scenarios run; each
operation and mode is drawn from its own fixed seed, so the cases do not depend on how the work was
split. Sending them goes through the runner's bounded pool of threads, like the scenarios.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from respkit.conformance.findings import Finding
from respkit.conformance.live.runner import Watcher, check_exchange, pooled, stream_checker
from respkit.conformance.live.session import Exchange, Session
from respkit.conformance.profiles import Profile
from respkit.conformance.replay import Recording, Result
from respkit.conformance.schema import default_validators
from respkit.generator.cache import cache_root

#: the seed of every operation's cases, unless `--seed` says otherwise
SEED = 20261125
#: cases drawn per operation and mode (valid, invalid), unless `--max-examples` says otherwise
DEFAULT_MAX_EXAMPLES = 8
#: worker processes that draw cases, at most (one per core below that)
MAX_DRAWERS = 4

Case = tuple[str, str, str, Any]


def _openapi() -> dict[str, Any]:
    bundle = default_validators().bundle
    return {k: v for k, v in bundle.items() if not k.startswith(("$", "x-"))}


def generate_cases(examples: int = DEFAULT_MAX_EXAMPLES, seed: int = SEED, workers: int = 1) -> list[Case]:
    """(operationId, method, path with query, body) for each generated case, reproducibly."""
    with Generation(examples, seed, workers) as generation:
        return generation.cases()


class Generation:
    """Cases being drawn: by `workers` processes (1: here, when `cases` is asked), in a temporary
    Hypothesis home (not the user's working directory), all gone when the block ends. A block left before
    the cases were taken (the target unreachable, a key refused, Ctrl-C) stops the drawing processes at
    once rather than wait seconds for draws nobody will use. Drawn cases are a function of the spec, the
    seed, the count and the versions of schemathesis and Hypothesis: they are kept in the user's cache
    (`RESPKIT_CACHE_DIR`), and a later run with the same four draws nothing."""

    def __init__(self, examples: int = DEFAULT_MAX_EXAMPLES, seed: int = SEED, workers: int = 1) -> None:
        self.examples, self.seed, self.workers = examples, seed, workers
        self.home = tempfile.TemporaryDirectory(prefix="respkit-hypothesis-")
        self.pool: ProcessPoolExecutor | None = None
        self.pending: list[Future[list[Case]]] = []
        self.cache = _cache_file(examples, seed)
        self.cached = _read_cache(self.cache)

    def __enter__(self) -> Generation:
        if self.workers > 1 and self.cached is None:
            context = multiprocessing.get_context("spawn")  # no fork of a process that runs a server thread
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)
            self.pending = [self.pool.submit(_draw_job, job, self.home.name) for job in _jobs(self.examples, self.seed)]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            if self.pending:  # the cases were not taken: what is still drawing is of no use
                _stop_workers(self.pool)
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.home.cleanup()

    def cases(self) -> list[Case]:
        """Every case, in the order of the operations and modes (waits for the workers)."""
        if self.cached is not None:
            return self.cached
        if self.pool is None:
            drawn = [c for job in _jobs(self.examples, self.seed) for c in _draw_job(job, self.home.name)]
        else:
            drawn = [case for future in self.pending for case in future.result()]
            self.pending = []
        self.cached = [c for c in drawn if _sendable(c)]
        _write_cache(self.cache, self.cached)
        return self.cached


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's processes now, mid-draw (Python 3.14 names this `terminate_workers`; before it, the
    pool's own table of processes is the only handle)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((pool._processes or {}).values()):
        process.terminate()


def _cache_file(examples: int, seed: int) -> Path:
    """Where the cases of this spec, seed, count and versions are kept."""
    from importlib.metadata import version

    key = json.dumps([_openapi(), seed, examples, version("schemathesis"), version("hypothesis")], sort_keys=True)
    folder = cache_root() / "cases"
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _read_cache(path: Path) -> list[Case] | None:
    """The cached cases, or None (none kept, or a file that is not what this module writes: drawn again)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(value, list) or not all(isinstance(c, list) and len(c) == 4 for c in value):
        return None
    return [(str(op), str(method), str(path_), body) for op, method, path_, body in value]


def _write_cache(path: Path, cases: list[Case]) -> None:
    """Keep the cases for the next run (written aside, then moved: a reader never sees half a file); a
    cache that cannot be written only costs the next run the drawing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as out:
            json.dump(cases, out)
        os.replace(out.name, path)
    except OSError:
        return


def drawers() -> int:
    """How many processes draw cases: one per core, at most MAX_DRAWERS (1: drawn in this process)."""
    return max(1, min(os.cpu_count() or 1, MAX_DRAWERS))


#: one unit of drawing: (operation's label `METHOD /path`, valid or invalid, examples, seed)
Job = tuple[str, bool, int, int]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _jobs(examples: int, seed: int) -> list[Job]:
    """The spec's operations, each valid and, where it can be, invalid, read from the bundle (schemathesis
    is left to the workers, which need it anyway)."""
    jobs = []
    for path, item in _openapi().get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                modes = (True, False) if _can_be_invalid(operation) else (True,)
                jobs += [(f"{method.upper()} {path}", positive, examples, seed) for positive in modes]
    return jobs


def _can_be_invalid(operation: dict[str, Any]) -> bool:
    """An operation whose only input is a plain string in its path has no invalid request (any string is
    one): Hypothesis would spend seconds looking for one and find none."""
    parameters = operation.get("parameters", [])
    plain = all(p.get("in") == "path" and _plain_string(p.get("schema", {})) for p in parameters)
    return "requestBody" in operation or not plain


def _plain_string(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not set(schema) - {"type", "example", "description", "title"}


@functools.cache
def _operations() -> dict[str, Any]:
    """The operations schemathesis can read, by label (one it cannot is left to the scenarios)."""
    import schemathesis
    from schemathesis.core.result import Ok

    schema = schemathesis.openapi.from_dict(_openapi())
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    return {operation.label: operation for operation in operations}


def _draw_job(job: Job, home: str) -> list[Case]:
    """The cases of one operation in one mode, with Hypothesis's files kept in `home`."""
    from hypothesis.configuration import set_hypothesis_home_dir, storage_directory
    from schemathesis import GenerationMode

    label, positive, examples, seed = job
    operation = _operations().get(label)
    if operation is None:
        return []
    op_id = str(operation.definition.raw.get("operationId", operation.label))
    mode = GenerationMode.POSITIVE if positive else GenerationMode.NEGATIVE
    previous = storage_directory(intent_to_write=False).home_directory
    set_hypothesis_home_dir(home)
    try:
        return _draw(operation.as_strategy(generation_mode=mode), op_id, examples, seed)
    finally:
        set_hypothesis_home_dir(previous)


def _draw(strategy: Any, op_id: str, examples: int, seed_value: int = SEED) -> list[Case]:
    """Up to `examples` cases from a strategy, the same ones on every run (a fixed seed)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from schemathesis.core import NotSet

    cases: list[Case] = []

    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(strategy)
    def collect(case: Any) -> None:
        path = case.path
        for name, value in (case.path_parameters or {}).items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        if case.query:
            path += "?" + urlencode(case.query, doseq=True)
        body = None if isinstance(case.body, NotSet) else case.body
        cases.append((op_id, case.method.upper(), path, body))

    # what was drawn before schemathesis gave up on an operation is still sent
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        collect()
    return cases


def run_fuzz(
    session: Session,
    profile: Profile,
    examples: int = DEFAULT_MAX_EXAMPLES,
    *,
    seed: int = SEED,
    concurrency: int = 1,
    watcher: Watcher | None = None,
    cases: Sequence[Case] | None = None,
) -> list[Result]:
    """Send generated cases (`cases`, else drawn here), at most `concurrency` at once; one `Result` per
    operation, its findings in the order of the cases."""
    session.stream_checker = stream_checker(profile)
    sender = _Sender(session, profile, watcher or Watcher())
    chosen = [c for c in (generate_cases(examples, seed) if cases is None else cases) if _sendable(c)]
    sender.watcher.phase("schemathesis cases", len(chosen))
    by_operation: dict[str, Sent] = {}
    for sent in pooled(sender.send, chosen, concurrency, session.halt):
        earlier = by_operation.get(sent.operation)
        by_operation[sent.operation] = earlier.merge(sent) if earlier is not None else sent
    return [sent.result(profile) for sent in by_operation.values()]


def _sendable(case: Case) -> bool:
    """A case whose body is JSON (a drawn value JSON cannot carry is not sent)."""
    try:
        json.dumps(case[3])
    except (TypeError, ValueError):
        return False
    return True


@dataclass
class Sent:
    """What the cases of one operation gave: the last exchange's kind and status, findings, seconds."""

    operation: str
    last: Exchange
    findings: list[Finding]
    seconds: float

    def merge(self, later: Sent) -> Sent:
        return Sent(self.operation, later.last, self.findings + later.findings, self.seconds + later.seconds)

    def result(self, profile: Profile) -> Result:
        recording = Recording(
            path=Path(f"live/schemathesis/{self.operation}"),
            display=f"schemathesis: {self.operation}",
            kind=self.last.kind,
            provider=profile.name,
            profile=profile.name,
            status=self.last.status,
            content_type=self.last.content_type,
            live=True,
        )
        return Result(recording, _dedupe(self.findings), seconds=self.seconds)


class _Sender:
    def __init__(self, session: Session, profile: Profile, watcher: Watcher) -> None:
        self.session, self.profile, self.watcher = session, profile, watcher

    def send(self, case: Case) -> Sent:
        """One case sent and checked; its body is released once checked."""
        op_id, method, path, body = case
        if isinstance(body, dict) and body.get("background") is True:
            body = {**body, "background": False}  # keep the phase short: no background jobs left behind
        label = f"{method} {path}"
        self.watcher.started(label)
        started = time.monotonic()
        raw = None if body is None else json.dumps(body).encode()
        exchange = self.session.request("schemathesis", op_id, method, path, raw=raw)
        findings = self._findings(exchange)
        exchange.release()
        self.watcher.finished(label, any(f.fails for f in findings))
        return Sent(op_id, exchange, findings, time.monotonic() - started)

    def _findings(self, exchange: Exchange) -> list[Finding]:
        if exchange.status < 500:
            return check_exchange(exchange, self.profile)
        message = f"generated input got a {exchange.status}: a client's mistake must be a 4xx"
        failure = exchange.failure("no_server_error", message, expected="a status below 500", received=exchange.status)
        return [self.profile.classify(failure)]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per (check, pointer, message) per operation: generated cases repeat themselves."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in findings:
        key = (f.check, f.pointer, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
