"""`respkit replay` and `respkit selftest` (exit codes: 0 conformant, 1 failures, 2 usage error)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from conformance.cli import EXIT_FAIL, EXIT_OK, UsageError
from conformance.console import print_results
from conformance.mutate import Score, conformant, kill, mutants
from conformance.profiles import ProfileError, load_profile
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
            for mutant in mutants(base.recording):
                result.total += 1
                if kill(base.recording, mutant, Path(tmp)):
                    result.killed += 1
                elif result.survivors is not None:
                    result.survivors.append((base.recording.display, mutant.operator))
    return result


def selftest(args: argparse.Namespace) -> int:
    found = score(args.paths)
    if found.total == 0:
        raise UsageError("no conformant recording to mutate in " + (", ".join(args.paths) or "the bundled folder"))
    for where, operator in found.survivors or []:
        print(f"survived: {operator} on {where}")
    print(f"selftest: {found.killed}/{found.total} mutants killed ({found.share:.1%}); target {args.min_score:.0%}")
    return EXIT_OK if found.share >= args.min_score else EXIT_FAIL
