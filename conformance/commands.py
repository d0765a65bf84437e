"""`respkit replay` and `respkit selftest` (exit codes: 0 conformant, 1 failures, 2 usage error)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from respkit.conformance.cli import EXIT_FAIL, EXIT_OK, UsageError
from respkit.conformance.console import print_results
from respkit.conformance.findings import Finding, Severity, Source
from respkit.conformance.limits import current, option, size
from respkit.conformance.mutate import Score, conformant, kill, mutants
from respkit.conformance.profiles import ProfileError, load_profile
from respkit.conformance.recordings import HERE as BUNDLED
from respkit.conformance.replay import (
    Recording,
    RecordingError,
    Result,
    check_recording,
    discover,
    load_recording,
    with_operation,
)
from respkit.conformance.reports import count, write_reports
from respkit.conformance.schema import default_validators
from respkit.conformance.selection import select


def _results(paths: list[str], profile: str | None) -> list:  # type: ignore[type-arg]
    try:
        if profile:
            load_profile(profile)
        results = replay_recordings([Path(p) for p in paths] or [BUNDLED], profile)
    except (ProfileError, RecordingError) as exc:
        raise UsageError(str(exc)) from None
    if not results:  # a gate pointed at the wrong folder must not pass
        raise UsageError(f"no recordings (.json, .sse, .error.json) in {', '.join(paths) or 'the bundled folder'}")
    return results


def replay_recordings(paths: list[Path], profile: str | None = None) -> list[Result]:
    """Every recording in `paths` checked, within the run's bounds."""
    return [_within_bounds(load_recording(p, profile)) for p in discover(paths)]


def _within_bounds(rec: Recording) -> Result:
    """A recording checked; a body that is not a stream and is larger than `--max-body-bytes` (it would be
    read whole to be parsed) is reported as such instead. Streams are read in bounded memory."""
    bound, found = current().max_body_bytes, rec.path.stat().st_size
    if rec.kind == "stream" or found <= bound:
        return check_recording(rec)
    source = Source.recording(rec.display)
    message = f"the recording has {size(found)}, more than {option('max_body_bytes')} {size(bound)}: not checked"
    finding = Finding(
        check="within_bounds",
        severity=Severity.FAILURE,
        message=message,
        source=source.name,
        operation=rec.operation or "",
        expected=f"a body within {size(bound)} (raise {option('max_body_bytes')} to check it)",
        received=size(found),
        reproduce=f"{source.reproduce} {option('max_body_bytes')} {found}",
    )
    return Result(rec, [finding])


def replay(args: argparse.Namespace) -> int:
    results = select(_results(args.paths, args.profile), args)  # --check / --exclude-check
    spec = str(default_validators().version)
    print_results(results, spec)
    write_reports(results, spec, args)
    return EXIT_FAIL if any(r.failed for r in results) else EXIT_OK


def score(paths: list[str]) -> Score:
    """Mutate every conformant recording; count the mutants that get a failure."""
    result = Score(survivors=[])
    with tempfile.TemporaryDirectory(prefix="respkit-selftest-") as tmp:
        for base in _results(paths, None):
            if not conformant(base):
                continue
            result.baselines += 1
            rec = with_operation(base.recording)  # told from its body once, not once per mutant
            for mutant in mutants(rec):
                killed = kill(rec, mutant, Path(tmp))
                result.add(mutant.operator, killed)
                if not killed and result.survivors is not None:
                    result.survivors.append((base.recording.display, mutant.operator))
    return result


def _reference_recordings(folder: Path) -> None:
    """The reference server's answers to every live scenario, recorded into `folder`: conformant, complete
    streams (under `openai`, spec + errata, as the server answers as OpenAI does), so that every stream
    operator has work."""
    from respkit.conformance.live import Session, run_scenarios
    from respkit.conformance.live.commands import LOCAL_KEY, LOCAL_MODEL, LOCAL_REASONING_MODEL, Recorder, local_models
    from respkit.conformance.server import run_server

    with run_server(api_keys={LOCAL_KEY}) as url, Recorder(folder, ("reference", "openai")) as recorder:
        with Session(url, LOCAL_KEY, "RESPKIT_LOCAL_KEY", keep_whole=True) as session:
            profile = local_models(load_profile("openai"))
            run_scenarios(session, profile, LOCAL_MODEL, LOCAL_REASONING_MODEL, settle=recorder.add)
        recorder.finish()


def selftest(args: argparse.Namespace) -> int:
    if not args.paths:  # the bundled recordings, and fresh streams from the reference server
        with tempfile.TemporaryDirectory(prefix="respkit-reference-") as tmp:
            _reference_recordings(Path(tmp))
            return _selftest([str(BUNDLED), tmp], args.min_score)
    return _selftest(args.paths, args.min_score)


def _selftest(paths: list[str], min_score: float) -> int:
    found = score(paths)
    if found.total == 0:
        raise UsageError("no conformant recording to mutate in " + ", ".join(paths))
    width = max(map(len, found.by_operator))
    print(f"{'operator':<{width}}  killed")
    for operator, (killed, total) in sorted(found.by_operator.items()):
        print(f"{operator:<{width}}  {killed}/{total}")
    for where, operator in found.survivors or []:
        print(f"survived: {operator} on {where}")
    print(
        f"selftest: {found.killed}/{found.total} mutants of {count(found.baselines, 'conformant recording')} killed "
        f"({found.share:.1%}); target {min_score:.0%}"
    )
    return EXIT_OK if found.share >= min_score else EXIT_FAIL


def profile_draft(args: argparse.Namespace) -> int:
    """`respkit profile draft`: write a reviewed-to-be profile under which the recordings replay clean."""
    from respkit.conformance.draft import draft, replay_under, summary
    from respkit.conformance.reports import write_atomic

    out = Path(args.out or f"{args.name}.yaml")
    if out.exists() and not args.force:
        raise UsageError(f"{out}: exists; give another --out, or --force to replace it")
    paths = [Path(p) for p in args.paths]
    try:
        made = draft(paths, args.name, args.base)
    except (ProfileError, RecordingError) as exc:
        raise UsageError(str(exc)) from None
    if not made.recordings:
        raise UsageError(f"no recordings (.json, .sse, .error.json) in {', '.join(args.paths)}")
    write_atomic(out, made.text)
    print(f"wrote {out}: {summary(made, replay_under(made, paths))}")
    print("review it: fill in each `why`, narrow or drop what the provider should fix; then --profile", out)
    return EXIT_OK
