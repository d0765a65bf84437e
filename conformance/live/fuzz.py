"""The schemathesis phase of a live check: requests generated from the spec's operations, valid and
invalid, each answer checked by the engine, plus the one rule schemathesis is known for: a provider
never answers generated input with a 5xx.

schemathesis generates the cases (from the same bundle the checks use); respkit sends them with its own
session, so every request gets a reproduce line with the key as `$VAR` and streams are read whole
(schemathesis alone stops reading a stream after a few events and knows nothing of their order).
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from respkit.conformance.findings import Finding
from respkit.conformance.live.runner import check_exchange, stream_checker
from respkit.conformance.live.session import Exchange, Session
from respkit.conformance.profiles import Profile
from respkit.conformance.replay import Recording, Result
from respkit.conformance.schema import default_validators

SEED = 20261125


def _openapi() -> dict[str, Any]:
    bundle = default_validators().bundle
    return {k: v for k, v in bundle.items() if not k.startswith(("$", "x-"))}


def generate_cases(examples: int) -> list[tuple[str, str, str, Any]]:
    """(operationId, method, path with query, body) for each generated case, reproducibly. Hypothesis
    keeps its files in a temporary folder for the while, not in the user's working directory."""
    import tempfile

    from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

    previous = storage_directory(intent_to_write=False).home_directory
    with tempfile.TemporaryDirectory(prefix="respkit-hypothesis-") as home:
        set_hypothesis_home_dir(home)
        try:
            return _generate(examples)
        finally:
            set_hypothesis_home_dir(previous)


def _generate(examples: int) -> list[tuple[str, str, str, Any]]:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.core.result import Ok

    schema = schemathesis.openapi.from_dict(_openapi())
    cases: list[tuple[str, str, str, Any]] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            continue  # an operation schemathesis cannot read is left to the scenarios
        operation = result.ok()
        op_id = str(operation.definition.raw.get("operationId", operation.label))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases += _draw(operation.as_strategy(generation_mode=mode), op_id, examples)
    return cases


def _draw(strategy: Any, op_id: str, examples: int) -> list[tuple[str, str, str, Any]]:
    """Up to `examples` cases from a strategy, the same ones on every run (a fixed seed)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from schemathesis.core import NotSet

    cases: list[tuple[str, str, str, Any]] = []

    @seed(SEED)
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


def run_fuzz(session: Session, profile: Profile, examples: int = 8) -> list[Result]:
    """Send generated cases; one `Result` per operation."""
    session.stream_checker = stream_checker(profile)
    by_operation: dict[str, list[Finding]] = {}
    statuses: dict[str, Exchange] = {}
    for op_id, method, path, body in generate_cases(examples):
        if isinstance(body, dict) and body.get("background") is True:
            body = {**body, "background": False}  # keep the phase short: no background jobs left behind
        try:
            raw = None if body is None else json.dumps(body).encode()
        except (TypeError, ValueError):
            continue
        exchange = session.request("schemathesis", op_id, method, path, raw=raw)
        statuses[op_id] = exchange
        findings = by_operation.setdefault(op_id, [])
        if exchange.status >= 500:
            message = f"generated input got a {exchange.status}: a client's mistake must be a 4xx"
            failure = exchange.failure(
                "no_server_error", message, expected="a status below 500", received=exchange.status
            )
            findings.append(profile.classify(failure))
            exchange.release()
            continue
        findings += check_exchange(exchange, profile)
        exchange.release()
    return [
        Result(
            Recording(
                path=Path(f"live/schemathesis/{op}"),
                display=f"schemathesis: {op}",
                kind=statuses[op].kind,
                provider=profile.name,
                profile=profile.name,
                status=statuses[op].status,
                content_type=statuses[op].content_type,
                live=True,
            ),
            _dedupe(findings),
        )
        for op, findings in by_operation.items()
    ]


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
