"""`respkit check` (live conformance, by default of the embedded reference server) and `respkit record`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from respkit.conformance.cli import EXIT_FAIL, EXIT_OK, UsageError
from respkit.conformance.console import print_results
from respkit.conformance.live.fuzz import SEED, Generation, drawers, run_fuzz
from respkit.conformance.live.gate import RateGate
from respkit.conformance.live.progress import LiveProgress, wants_display
from respkit.conformance.live.runner import run_scenarios
from respkit.conformance.live.scenarios import SCENARIOS
from respkit.conformance.live.session import Exchange, Reproducer, Session, curl
from respkit.conformance.live.ws import for_transport
from respkit.conformance.profiles import DEFAULT, Profile, ProfileError, load_profile
from respkit.conformance.redaction import redact, redact_bytes
from respkit.conformance.replay import Result
from respkit.conformance.reports import DEFAULT_REPORTS, REPORT_OPTIONS, Coverage, count, write_reports
from respkit.conformance.schema import default_validators
from respkit.conformance.selection import select

LOCAL_KEY = "respkit-local-key"  # the embedded server's own key; not a secret
LOCAL_MODEL, LOCAL_REASONING_MODEL = "gpt-4.1-mini", "o4-mini"
#: the embedded server's raw-reasoning and audio models (conformance/server/modalities.py)
LOCAL_RAW_REASONING_MODEL, LOCAL_AUDIO_MODEL = "gpt-oss-20b", "gpt-4o-audio-preview"


def _profile(name: str | None, default: str) -> Profile:
    try:
        return load_profile(name or default)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def _models(args: argparse.Namespace, profile: Profile, embedded: bool) -> tuple[str, str | None]:
    """The models to ask for: the options, else the profile's, else (the embedded server) respkit's own."""
    model = args.model or profile.model or LOCAL_MODEL
    reasoning = args.reasoning_model or profile.reasoning_model or (LOCAL_REASONING_MODEL if embedded else None)
    return model, reasoning


def local_models(profile: Profile) -> Profile:
    """`profile` for a run against the embedded server: its raw-reasoning and audio models, unless named."""
    return replace(
        profile,
        raw_reasoning_model=profile.raw_reasoning_model or LOCAL_RAW_REASONING_MODEL,
        audio_model=profile.audio_model or LOCAL_AUDIO_MODEL,
    )


def _scenarios(names: list[str] | None) -> list[str] | None:
    unknown = [n for n in names or [] if n not in SCENARIOS]
    if unknown:
        raise UsageError(f"--scenario: unknown scenario {unknown[0]!r} (see `respkit check --list-scenarios`)")
    return names


def _transported(args: argparse.Namespace, embedded: bool) -> list[str]:
    """The scenarios of `--transport`; by default both transports on the embedded server (it serves both),
    HTTP alone on a provider (few serve the WebSocket mode, and the HTTP checks must not wait on it)."""
    return for_transport(args.transport or ("both" if embedded else "http"))


def _key(var: str, no_auth: bool = False) -> str | None:
    """The key in `var`; None for a keyless run (`--no-auth`, or the variable empty or not set: said on
    standard error, and a target that needs a key then ends the run naming the variable)."""
    value = None if no_auth else os.environ.get(var)
    if not value and not no_auth:
        print(f"respkit: note: ${var} is empty or not set: checking without a key (--no-auth)", file=sys.stderr)
    return value or None


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[str, str | None, str]]:
    """(base URL, key, key variable): the given provider, or the embedded server started for the run."""
    if args.base_url:
        yield args.base_url, _key(args.api_key_env, getattr(args, "no_auth", False)), args.api_key_env
        return
    from respkit.conformance.server import run_server

    with run_server(api_keys={LOCAL_KEY}) as url:
        yield url, LOCAL_KEY, "RESPKIT_LOCAL_KEY"


def _validate(args: argparse.Namespace) -> None:
    if args.base_url and not args.base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url {args.base_url!r}: expected an http:// or https:// URL")
    if args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: expected a positive number of seconds")
    for option, least in (("concurrency", 1), ("max_examples", 1), ("max_rate_wait", 0)):
        value = getattr(args, option, least)
        if value < least:
            raise UsageError(f"--{option.replace('_', '-')} {value:g}: expected at least {least}")


def _default_reports(args: argparse.Namespace) -> None:
    """The main job writes every report format unless the user chose some, or none."""
    if args.no_reports or any(getattr(args, attr, None) for attr, _ in REPORT_OPTIONS):
        return
    for attr, suffix in DEFAULT_REPORTS:
        setattr(args, attr, str(Path(args.reports_dir) / f"respkit-check.{suffix}"))


def list_scenarios() -> str:
    """Each scenario's name and the first sentence of what it asks of the target."""
    width = max(map(len, SCENARIOS))
    lines = []
    for name, func in SCENARIOS.items():
        doc = " ".join((func.__doc__ or "").split())
        lines.append(f"{name:<{width}}  {doc.split('. ')[0].rstrip('.')}")
    return "\n".join(lines)


def check(args: argparse.Namespace) -> int:
    if args.list_scenarios:
        print(list_scenarios())
        return EXIT_OK
    _validate(args)
    _default_reports(args)
    embedded = not args.base_url
    profile = _profile(args.profile, DEFAULT)  # the reference server answers as OpenAI does: spec + errata
    names = _scenarios(args.scenario)
    if embedded:
        profile = local_models(profile)
    results: list[Result] = []
    live, exchanges, waited = _run_live(args, profile, names, embedded)
    results += live
    if embedded and not args.no_replay:
        from respkit.conformance.commands import replay_recordings
        from respkit.conformance.recordings import HERE as BUNDLED

        results += replay_recordings([BUNDLED])
    results = select(results, args)  # --check / --exclude-check
    spec = str(default_validators().version)
    print_results(results, spec, Console(highlight=False, no_color=args.no_color or None), title="respkit check")
    covered = coverage(exchanges)
    print(covered.line())
    if waited:
        print(waited)
        args.rate_limited = waited.removeprefix("rate limited: ")  # a row of the reports' context
    write_reports(results, spec, args, covered)
    if not args.no_reports:
        print(f"reports: {', '.join(getattr(args, a) for a, _ in REPORT_OPTIONS if getattr(args, a, None))}")
    return EXIT_FAIL if any(r.failed for r in results) else EXIT_OK


def _run_live(
    args: argparse.Namespace, profile: Profile, names: list[str] | None, embedded: bool
) -> tuple[list[Result], list[Exchange], str]:
    """The live part of a check, at most `--concurrency` requests in flight: the scenarios, then the
    schemathesis cases (drawn meanwhile in worker processes). Returns the results, the exchanges and the
    line that tells the wait on rate limits (empty when there was none)."""
    fuzz = not args.no_schemathesis and not names and args.transport != "ws"
    seed = SEED if args.seed is None else args.seed
    gate = RateGate(args.max_rate_wait)
    with (
        Generation(args.max_examples, seed, drawers() if fuzz else 1) as generation,
        _target(args) as (url, key, var),
        Session(url, key, var, timeout=args.timeout, gate=gate) as session,
        LiveProgress(wants_display(args), args.verbose) as progress,
    ):
        if embedded:
            session.reproducer = served(profile)
        model, reasoning = _models(args, profile, embedded)
        chosen = names or _transported(args, embedded)
        results = run_scenarios(
            session, profile, model, reasoning, chosen, concurrency=args.concurrency, watcher=progress
        )
        if fuzz:
            cases = generation.cases()
            results += run_fuzz(session, profile, cases=cases, concurrency=args.concurrency, watcher=progress)
        return results, list(session.exchanges), gate.summary()


#: where a reproduce line of the embedded server's run has the user start the reference server
SERVE_PORT = 8080


def served(profile: Profile) -> Reproducer:
    """Reproduce lines for a run against the embedded server, whose port and key die with the run: start
    `respkit serve` (keyless), then the scenario's check against it, or the schemathesis case's curl."""
    base = f"http://127.0.0.1:{SERVE_PORT}/v1"
    serve = f"respkit serve --port {SERVE_PORT}, then: "
    named = "" if profile.name == DEFAULT else f" --profile {profile.name}"

    def reproduce(scenario: str, method: str, path: str, body: str | None, auth: bool | str) -> str:
        if scenario == "schemathesis":
            return serve + curl(base, method, path, body, None, auth)
        return f"{serve}respkit check --base-url {base} --no-auth{named} --scenario {scenario}"

    return reproduce


def coverage(exchanges: list[Exchange]) -> Coverage:
    """What a live check exercised, of what the spec defines: operations answered 2xx, stream event types seen."""
    val = default_validators()
    operations = set(val.response_schemas)
    answered = {e.operation for e in exchanges if 200 <= e.status < 300} & operations
    seen = frozenset[str]().union(*(e.event_types() for e in exchanges))
    return Coverage(
        operations=tuple(sorted(operations)),
        answered=tuple(sorted(answered)),
        event_types=len(val.event_types),
        seen=tuple(sorted(t for t in seen if t in val.event_types)),
    )


def record(args: argparse.Namespace) -> int:
    """Record the scenarios' traffic into DIR: one file per exchange plus a sidecar, secrets redacted."""
    _validate(args)
    profile = _profile(args.profile, DEFAULT)
    key = _key(args.api_key_env)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a folder")
    named = profile.name
    if args.profile and args.profile.endswith((".yaml", ".yml")):  # a profile file: named relative to out/
        named = Path(os.path.relpath(Path(args.profile).resolve(), out.resolve())).as_posix()
    with Recorder(out, (profile.name, named)) as recorder:
        with Session(args.base_url, key, args.api_key_env, timeout=args.timeout, keep_whole=True) as session:
            names = _scenarios(args.scenario)
            run_scenarios(session, profile, *_models(args, profile, embedded=False), names, settle=recorder.add)
        written = recorder.finish()
    print(f"recorded {count(written, 'exchange')} into {out}")
    return EXIT_OK


class Recorder:
    """Writes exchanges as recordings with sidecars, secrets redacted, as their scenarios end (their bodies
    are released then). All are written aside first and moved into `out` by `finish`, so no file appears
    half-written and a run that fails leaves `out` as it was. `profile`: the provider's name, and the
    profile as replay will load it."""

    def __init__(self, out: Path, profile: tuple[str, str]) -> None:
        self.out, self.profile = out, profile
        #: the recordings written, by the exchange's `id()`, so a resumed stream can name the one it resumes
        self.names: dict[int, str] = {}
        self.seen = 0
        self.staging: Path | None = None

    def __enter__(self) -> Recorder:
        self.out.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=".respkit-record-", dir=self.out))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

    def add(self, exchanges: list[Exchange]) -> None:
        assert self.staging is not None, "use Recorder as a context manager"
        for exchange in exchanges:
            stem = f"{self.seen:02d}_{exchange.scenario}_{exchange.operation}"
            self.seen += 1
            written = _write(self.staging, exchange, stem, self.profile, self.names)
            if written is not None:
                self.names[id(exchange)] = written
            exchange.release()

    def finish(self) -> int:
        """Move every recording into `out`; how many exchanges were recorded."""
        assert self.staging is not None, "use Recorder as a context manager"
        for path in sorted(self.staging.iterdir()):
            os.replace(path, self.out / path.name)
        return len(self.names)


def _write(
    folder: Path, exchange: Exchange, stem: str, profile: tuple[str, str], written: dict[int, str]
) -> str | None:
    """One exchange as a recording of the bytes received (secrets redacted) and its sidecar; returns the
    recording's file name. A body that is not a stream and was cut at `--max-body-bytes` is not recorded
    (a part of a JSON body is no recording of it), and that is said on standard error."""
    if exchange.bound is not None and exchange.kind != "stream":
        print(f"respkit: note: not recorded: {stem}: {exchange.bound}", file=sys.stderr)
        return None
    provider, profile_ref = profile
    suffix = {"stream": ".sse", "error": ".error.json"}.get(exchange.kind, ".json")
    (folder / f"{stem}{suffix}").write_bytes(redact_bytes(exchange.body))
    meta: dict[str, Any] = {
        "provider": provider,
        "profile": profile_ref,
        "source": "respkit record",
        "operation": exchange.operation,
        "status": exchange.status,
        "content_type": exchange.content_type,
        "request": redact(_summary(exchange)),
    }
    if exchange.bound is not None or exchange.cut is not None:
        meta.update(complete=False, cut=redact(exchange.bound or exchange.cut or ""))
    if exchange.kind == "stream" and exchange.resumes is not None and id(exchange.resumes) in written:
        meta["resumes"] = {"recording": written[id(exchange.resumes)], "starting_after": exchange.resumes_after}
    (folder / f"{stem}.meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return f"{stem}{suffix}"


def _summary(exchange: Exchange) -> str:
    body = exchange.request_body if isinstance(exchange.request_body, dict) else {}
    parts = [f"{exchange.method} {exchange.path}"]
    for name in ("model", "stream", "background", "store", "max_output_tokens", "tool_choice"):
        if name in body:
            parts.append(f"{name}={body[name]}")
    if body.get("tools"):
        parts.append("tools=" + ",".join(str(t.get("type")) for t in body["tools"]))
    return "; ".join(parts)
