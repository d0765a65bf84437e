"""`respkit replay` and `respkit selftest` (exit codes: 0 conformant, 1 failures, 2 usage error)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from conformance.cli import EXIT_FAIL, EXIT_OK, UsageError
from conformance.console import print_results
from conformance.mutate import Score, conformant, kill, mutants
from conformance.profiles import ProfileError, load_profile
from conformance.recordings import HERE as BUNDLED
from conformance.replay import RecordingError
from conformance.replay import replay as run_replay
from conformance.reports import write_reports
from conformance.schema import default_validators


def _results(paths: list[str], profile: str | None) -> list:  # type: ignore[type-arg]
    try:
        if profile:
            load_profile(profile)
        results = run_replay([Path(p) for p in paths] or None, profile)
    except (ProfileError, RecordingError) as exc:
        raise UsageError(str(exc)) from None
    if not results:  # a gate pointed at the wrong folder must not pass
        raise UsageError(f"no recordings (.json, .sse, .error.json) in {', '.join(paths) or 'the bundled folder'}")
    return results


def replay(args: argparse.Namespace) -> int:
    results = _results(args.paths, args.profile)
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
            for mutant in mutants(base.recording):
                killed = kill(base.recording, mutant, Path(tmp))
                result.add(mutant.operator, killed)
                if not killed and result.survivors is not None:
                    result.survivors.append((base.recording.display, mutant.operator))
    return result


def _reference_recordings(folder: Path) -> None:
    """The reference server's answers to every live scenario, recorded into `folder`: conformant, complete
    streams (the tests hold them to the published spec), so that every stream operator has work."""
    from conformance.live import Session, run_scenarios
    from conformance.live.commands import LOCAL_KEY, LOCAL_MODEL, LOCAL_REASONING_MODEL, write_recordings
    from conformance.server import run_server

    with run_server(api_keys={LOCAL_KEY}) as url, Session(url, LOCAL_KEY, "RESPKIT_LOCAL_KEY") as session:
        run_scenarios(session, load_profile("strict"), LOCAL_MODEL, LOCAL_REASONING_MODEL)
        write_recordings(session.exchanges, folder, ("reference", "strict"), LOCAL_KEY)


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
        f"selftest: {found.killed}/{found.total} mutants of {found.baselines} conformant recordings killed "
        f"({found.share:.1%}); target {min_score:.0%}"
    )
    return EXIT_OK if found.share >= min_score else EXIT_FAIL
