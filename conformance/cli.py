"""The `respkit` command line. Exit codes: 0 conformant or done, 1 non-conformant or stale,
2 usage or configuration error, 3 target unreachable."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class UsageError(Exception):
    """A mistake in how respkit was called or configured: one line, exit code 2."""


class TargetUnreachable(Exception):
    """The target did not answer at all: one line, exit code 3."""


def _report_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reports")
    group.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    group.add_argument("--json", metavar="PATH", dest="json_report", help="write a JSON report")
    group.add_argument("--markdown", metavar="PATH", help="write a Markdown report")
    group.add_argument("--html", metavar="PATH", help="write an HTML report")


#: the bounds of `conformance.limits` and what each does
BOUNDS = {
    "deadline": "seconds the whole run may talk to the target; then it ends as unreachable (exit 3)",
    "max_stream_seconds": "seconds one stream may take; a longer one is cut and reported",
    "max_stream_bytes": "bytes one stream may send; a longer one is cut and reported",
    "max_body_bytes": "bytes one body that is not a stream may have; a larger one is reported, not parsed",
    "max_findings": "findings kept per check and stream or body; the rest are counted in one finding",
    "max_spec_bytes": "bytes a spec file or download may have",
    "max_yaml_nodes": "nodes a YAML spec may have with its aliases expanded (an alias bomb has billions)",
}
#: the bounds each kind of command takes
LIVE_BOUNDS = ("deadline", "max_stream_seconds", "max_stream_bytes", "max_body_bytes", "max_findings")
REPLAY_BOUNDS = ("max_body_bytes", "max_findings")
SPEC_BOUNDS = ("max_spec_bytes", "max_yaml_nodes")


def _bound_options(parser: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """The bounds a command takes, each with its default in the help."""
    from respkit.conformance.limits import Limits, option

    group = parser.add_argument_group("bounds (each has a default; hitting one is reported, never a hang)")
    defaults = Limits()
    for name in names:
        default = getattr(defaults, name)
        help_text = f"{BOUNDS[name]} (default: {default:g})"
        group.add_argument(option(name), type=type(default), metavar="N", help=help_text)


def _lazy(target: str) -> Callable[[argparse.Namespace], int]:
    """A handler that imports its module only when its command runs (keeps `respkit --help` fast)."""
    module, _, func = target.partition(":")

    def run(args: argparse.Namespace) -> int:
        handler: Callable[[argparse.Namespace], int] = getattr(import_module(module), func)
        return handler(args)

    return run


def _version() -> str:
    """respkit's version, and the spec its generated package (models, client, checks' bundle) comes from."""
    import json
    from importlib import metadata, resources

    try:
        version = metadata.version("respkit")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "(not installed)"
    try:
        upstream = json.loads(resources.files("respkit.generated").joinpath("manifest.json").read_text())["upstream"]
        spec = f"{upstream['name']} (sha256 {upstream['sha256'][:12]})"
    except (OSError, ValueError, KeyError):
        spec = "no generated package"
    return f"respkit {version}; generated from {spec}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="respkit",
        description="Generate models and a client for the OpenAI Responses API; check endpoints for conformance.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser("check", help="check a provider live (default: the embedded reference server)")
    check.add_argument("--base-url", help="the provider's base URL, e.g. https://api.openai.com/v1")
    check.add_argument(
        "--api-key-env", metavar="VAR", default="OPENAI_API_KEY", help="environment variable holding the key"
    )
    check.add_argument("--profile", help="provider profile: a name (spec/profiles/NAME.yaml) or a profile file")
    check.add_argument("--model", help="model to ask for (default: the profile's, else gpt-4.1-mini)")
    check.add_argument(
        "--reasoning-model", help="model for the reasoning scenario (default: the profile's; none: skipped)"
    )
    check.add_argument("--scenario", action="append", metavar="NAME", help="run only these scenarios")
    check.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")
    check.add_argument("--no-schemathesis", action="store_true", help="skip the schemathesis phase")
    check.add_argument("--no-replay", action="store_true", help="with no --base-url: skip replaying bundled recordings")
    check.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any answer or data")
    _bound_options(check, LIVE_BOUNDS)
    _report_options(check)
    check.add_argument(
        "--reports-dir",
        metavar="DIR",
        default="reports",
        help="with no report option given: write all four reports as DIR/respkit-check.* (default: reports)",
    )
    check.add_argument("--no-reports", action="store_true", help="write no report files")
    check.set_defaults(handler=_lazy("respkit.conformance.live.commands:check"))

    replay = sub.add_parser("replay", help="check recorded examples (.json, .sse, .error.json files or folders)")
    replay.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the bundled recordings)")
    replay.add_argument("--profile", help="profile for every recording (default: sidecar, then folder name)")
    _bound_options(replay, REPLAY_BOUNDS)
    _report_options(replay)
    replay.set_defaults(handler=_lazy("respkit.conformance.commands:replay"))

    record = sub.add_parser("record", help="record the live scenarios' traffic, secrets redacted")
    record.add_argument("--base-url", required=True)
    record.add_argument("--out", required=True, metavar="DIR")
    record.add_argument("--api-key-env", metavar="VAR", default="OPENAI_API_KEY")
    record.add_argument("--profile", help="profile named in the recordings' sidecars (a name or a profile file)")
    record.add_argument("--model", help="model to ask for (default: the profile's, else gpt-4.1-mini)")
    record.add_argument("--reasoning-model", help="model for the reasoning scenario (default: the profile's)")
    record.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any answer or data")
    _bound_options(record, LIVE_BOUNDS)
    record.set_defaults(handler=_lazy("respkit.conformance.live.commands:record"))

    selftest = sub.add_parser("selftest", help="mutate conformant recordings and report the share of mutants killed")
    selftest.add_argument("paths", nargs="*", metavar="PATH")
    selftest.add_argument("--min-score", type=float, default=0.99)
    selftest.set_defaults(handler=_lazy("respkit.conformance.commands:selftest"))

    profile = sub.add_parser("profile", help="provider profiles: draft one from a provider's recordings")
    profile_sub = profile.add_subparsers(dest="profile_command", metavar="PROFILE_COMMAND", required=True)
    draft = profile_sub.add_parser(
        "draft",
        help="replay recordings and write a profile of their disagreements, each `why` left to fill in",
        epilog="example: respkit profile draft recordings/acme/ --name acme  (writes acme.yaml)",
    )
    draft.add_argument("paths", nargs="+", metavar="RECORDINGS", help="the provider's recordings (files or folders)")
    draft.add_argument("--name", required=True, help="the provider's name (the profile's `name`)")
    draft.add_argument("--base", default="openai", help="profile to replay under and start from (default: openai)")
    draft.add_argument("--out", metavar="PATH", help="where to write the draft (default: NAME.yaml here)")
    draft.add_argument("--force", action="store_true", help="replace an existing file at --out")
    draft.set_defaults(handler=_lazy("respkit.conformance.commands:profile_draft"))

    from respkit.conformance.served_models import described

    serve = sub.add_parser("serve", help="run the reference server", epilog=described())
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--quirks", metavar="NAME", help="reproduce a provider's deviations (see --list-quirks)")
    serve.add_argument("--list-quirks", action="store_true", help="list the quirk modes and exit")
    serve.add_argument("--api-key", action="append", metavar="KEY", help="accept only these keys (default: any)")
    serve.add_argument("--rate-limit", type=int, metavar="N", help="requests per minute per key before 429")
    serve.add_argument("--max-body-bytes", type=int, default=4 * 1024 * 1024)
    serve.add_argument(
        "--max-store-bytes", type=int, metavar="N", help="bytes stored responses keep (default: 512 MiB)"
    )
    serve.add_argument(
        "--read-timeout", type=float, metavar="SECONDS", help="seconds for headers, then body (default: 30)"
    )
    serve.add_argument("--ws-max-message-bytes", type=int, metavar="N", help="WebSocket message bytes (default: 4 MiB)")
    serve.add_argument("--ws-max-streams", type=int, metavar="N", help="stream_id lanes per connection (default: 16)")
    serve.add_argument(
        "--ws-idle-timeout", type=float, metavar="SECONDS", help="idle WebSocket connection closed after (default: 300)"
    )
    serve.add_argument(
        "--ws-max-connection-seconds", type=float, metavar="S", help="WebSocket connection lifespan (default: 3600)"
    )
    serve.set_defaults(handler=_lazy("respkit.conformance.server.cli:serve"))

    generate = sub.add_parser("generate", help="regenerate models and client into generated/")
    generate.add_argument("--check", action="store_true", help="exit 1 when generated/ is stale; write nothing")
    generate.add_argument("--out", metavar="DIR", help="write the package into DIR instead of the repository")
    generate.add_argument("--package", metavar="NAME", default="generated", help="the package's name (with --out)")
    generate.add_argument("--spec", metavar="PATH_OR_URL", help="a copy of the pinned spec (same sha256)")
    generate.add_argument("--config", metavar="PATH", help="spec config (default: spec/respkit.yaml)")
    _bound_options(generate, SPEC_BOUNDS)
    generate.set_defaults(handler=_lazy("respkit.generator.commands:generate"))

    spec = sub.add_parser("spec", help="compare spec versions, update the pin")
    spec_sub = spec.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND", required=True)
    diff = spec_sub.add_parser("diff", help="what changed between two specs in /responses, breaking first")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    diff.add_argument("--output", metavar="PATH", help="write the diff to PATH instead of standard output")
    _bound_options(diff, SPEC_BOUNDS)
    diff.set_defaults(handler=_lazy("respkit.generator.commands:spec_diff"))
    update = spec_sub.add_parser("update", help="move the pin to a new spec and regenerate")
    update.add_argument("--from", dest="source", required=True, metavar="PATH_OR_URL")
    update.add_argument("--config", metavar="PATH", help="spec config (default: spec/respkit.yaml)")
    _bound_options(update, SPEC_BOUNDS)
    update.set_defaults(handler=_lazy("respkit.generator.commands:spec_update"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from respkit.conformance.limits import from_args, using
    from respkit.conformance.redaction import redacting_output

    with redacting_output():  # the console's redaction point: errors and tracebacks included
        try:
            with using(from_args(args)):
                code: int = args.handler(args)
        except Exception as exc:
            return _failed(exc)
        except KeyboardInterrupt:
            print("respkit: interrupted", file=sys.stderr)
            return 130
    return code


def _failed(exc: Exception) -> int:
    """One line on standard error for what stopped a command, and its exit code."""
    from respkit.generator.errors import SpecError

    if isinstance(exc, (SpecError, UsageError)):
        print(f"respkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, TargetUnreachable):
        print(f"respkit: error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if isinstance(exc, OSError):  # a report or output path that cannot be written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"respkit: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if os.environ.get("RESPKIT_DEBUG"):
        traceback.print_exc()
    else:
        detail = f"{type(exc).__name__}: {exc}"
        print(f"respkit: internal error: {detail} (set RESPKIT_DEBUG=1 for details)", file=sys.stderr)
    return EXIT_USAGE


def run(argv: Sequence[str] | None = None) -> Any:  # pragma: no cover - console entry for `python -m`
    sys.exit(main(argv))


if __name__ == "__main__":  # pragma: no cover
    run()
