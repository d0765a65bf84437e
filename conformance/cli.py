"""The `respkit` command line. Exit codes: 0 conformant or done, 1 non-conformant or stale,
2 usage or configuration error, 3 target unreachable."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class UsageError(Exception):
    """A mistake in how respkit was called or configured: one line, exit code 2."""


class TargetUnreachable(Exception):
    """The target did not answer at all: one line, exit code 3."""


EXIT_CODES = (
    "exit codes: 0 conformant (or done), 1 non-conformant (or stale), 2 usage or configuration error, "
    "3 target unreachable"
)
DEFAULTS_NOTE = (
    'defaults: a [tool.respkit] table in ./pyproject.toml sets any long option (base-url = "..."); '
    "the command line wins"
)
MAIN_EPILOG = f"""{EXIT_CODES}

examples:
  respkit check                          check the embedded reference server and the bundled recordings
  respkit check --base-url https://api.openai.com/v1 --markdown-summary comment.md
  respkit replay recordings/ --junit-xml junit.xml

{DEFAULTS_NOTE}"""
CHECK_EPILOG = f"""{EXIT_CODES}

examples:
  respkit check
  OPENAI_API_KEY=... respkit check --base-url https://api.openai.com/v1 --profile openai
  respkit check --base-url http://127.0.0.1:8000/v1 --exclude-check bad_key_is_401 --markdown-summary comment.md

{DEFAULTS_NOTE}"""
REPLAY_EPILOG = f"""{EXIT_CODES}

example:
  respkit replay recordings/acme/ --profile acme --junit-xml junit.xml

{DEFAULTS_NOTE}"""


class Repeatable(argparse._AppendAction):
    """`append` whose command-line values replace a default (from [tool.respkit]) instead of adding to it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *args: Any) -> None:
        if getattr(namespace, self.dest, None) is self.default:
            setattr(namespace, self.dest, None)
        super().__call__(parser, namespace, *args)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs keep their lines; an option's help names its default unless it says one itself."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """respkit's parsers (its commands' too): `HelpFormatter`, and `append` as `Repeatable`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.register("action", "append", Repeatable)


def _report_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reports (files written 0644, atomically)")
    group.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report (default: none)")
    group.add_argument("--json", metavar="PATH", dest="json_report", help="write a JSON report (default: none)")
    group.add_argument("--markdown", metavar="PATH", help="write the whole Markdown report (default: none)")
    group.add_argument("--html", metavar="PATH", help="write an HTML report (default: none)")
    group.add_argument(
        "--markdown-summary",
        metavar="PATH",
        help="write a Markdown summary for a pull request comment: verdict and failures first, the rest folded, "
        "under GitHub's 65,536 characters (default: none)",
    )


def _run_options(parser: argparse.ArgumentParser) -> None:
    """How a live check runs: side by side, within a wait for rate limits, keyless or not, what it shows."""
    group = parser.add_argument_group("running")
    group.add_argument(
        "--concurrency", type=int, default=8, metavar="N",
        help="scenarios and schemathesis cases in flight at once; 1: one after another (default: 8)",
    )  # fmt: skip
    group.add_argument(
        "--max-rate-wait", type=float, default=120.0, metavar="SECONDS",
        help="seconds the run may wait on 429 answers (Retry-After) in all; then it ends, exit 3 (default: 120)",
    )  # fmt: skip
    group.add_argument(
        "--no-auth", action="store_true",
        help="send no key (a keyless local server; also when the key variable is empty); the key scenarios are "
        "skipped (default: send the key)",
    )  # fmt: skip
    group.add_argument(
        "--max-examples", type=int, default=8, metavar="N",
        help="schemathesis cases per operation, valid and invalid each (default: 8)",
    )  # fmt: skip
    group.add_argument(
        "--seed", type=int, metavar="N", help="seed of the schemathesis cases (default: 20261125, the same each run)"
    )
    group.add_argument("--no-color", action="store_true", help="no colour and no progress display (also NO_COLOR)")
    shown = group.add_mutually_exclusive_group()
    shown.add_argument("-q", "--quiet", action="store_true", help="no progress display (default: off)")
    shown.add_argument(
        "-v", "--verbose", action="store_true", help="a line as each scenario ends, in a pipe too (default: off)"
    )


def _selection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("checks (ids as in a report's check column)")
    group.add_argument(
        "--check",
        dest="checks",
        action="append",
        metavar="ID",
        help="report only this check; repeatable (default: all)",
    )
    group.add_argument(
        "--exclude-check",
        dest="excluded_checks",
        action="append",
        metavar="ID",
        help="do not report this check; repeatable (default: none)",
    )


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
        shown = f"{default:,}" if isinstance(default, int) else f"{default:g}"
        help_text = f"{BOUNDS[name]} (default: {shown})"
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
    parser = Parser(
        prog="respkit",
        description="Generate models and a client for the OpenAI Responses API; check endpoints for conformance.",
        epilog=MAIN_EPILOG,
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser(
        "check",
        help="check a provider live (default: the embedded reference server)",
        description="Check a provider live: scenarios, schemathesis cases, every answer through the checks.",
        epilog=CHECK_EPILOG,
    )
    check.add_argument(
        "--base-url",
        help="the provider's base URL, e.g. https://api.openai.com/v1 (default: none: the embedded reference server)",
    )
    check.add_argument(
        "--api-key-env", metavar="VAR", default="OPENAI_API_KEY", help="environment variable holding the key"
    )
    check.add_argument(
        "--profile",
        help="provider profile: a name (spec/profiles/NAME.yaml) or a profile file "
        "(default: strict for the embedded server, else openai)",
    )
    check.add_argument("--model", help="model to ask for (default: the profile's, else gpt-4.1-mini)")
    check.add_argument(
        "--reasoning-model", help="model for the reasoning scenario (default: the profile's; none: skipped)"
    )
    check.add_argument(
        "--scenario", action="append", metavar="NAME", help="run only this scenario; repeatable (default: all)"
    )
    check.add_argument(
        "--transport",
        choices=("http", "ws", "both"),
        help="scenarios over HTTP, over the WebSocket mode, or both (default: both for the embedded server, else http)",
    )
    check.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")
    check.add_argument("--no-schemathesis", action="store_true", help="skip the schemathesis phase (default: run it)")
    check.add_argument(
        "--no-replay", action="store_true", help="with no --base-url: skip replaying bundled recordings (default: off)"
    )
    check.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any answer or data")
    _run_options(check)
    _selection_options(check)
    _bound_options(check, LIVE_BOUNDS)
    _report_options(check)
    check.add_argument(
        "--reports-dir",
        metavar="DIR",
        default="reports",
        help="with no report option given: write every report as DIR/respkit-check.* (default: reports)",
    )
    check.add_argument("--no-reports", action="store_true", help="write no report files (default: off)")
    check.set_defaults(handler=_lazy("respkit.conformance.live.commands:check"))

    replay = sub.add_parser(
        "replay", help="check recorded examples (.json, .sse, .error.json files or folders)", epilog=REPLAY_EPILOG
    )
    replay.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the bundled recordings)")
    replay.add_argument("--profile", help="profile for every recording (default: sidecar, then folder name)")
    _selection_options(replay)
    _bound_options(replay, REPLAY_BOUNDS)
    _report_options(replay)
    replay.set_defaults(handler=_lazy("respkit.conformance.commands:replay"))

    record = sub.add_parser("record", help="record the live scenarios' traffic, secrets redacted")
    record.add_argument("--base-url", required=True, help="the provider's base URL (required)")
    record.add_argument("--out", required=True, metavar="DIR", help="folder the recordings are written to (required)")
    record.add_argument(
        "--api-key-env", metavar="VAR", default="OPENAI_API_KEY", help="environment variable holding the key"
    )
    record.add_argument(
        "--profile", help="profile named in the recordings' sidecars (a name or a profile file; default: openai)"
    )
    record.add_argument("--model", help="model to ask for (default: the profile's, else gpt-4.1-mini)")
    record.add_argument("--reasoning-model", help="model for the reasoning scenario (default: the profile's)")
    record.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any answer or data")
    record.add_argument(
        "--scenario", action="append", metavar="NAME", help="record only this scenario; repeatable (default: all)"
    )
    _bound_options(record, LIVE_BOUNDS)
    record.set_defaults(handler=_lazy("respkit.conformance.live.commands:record"))

    selftest = sub.add_parser("selftest", help="mutate conformant recordings and report the share of mutants killed")
    selftest.add_argument(
        "paths", nargs="*", metavar="PATH", help="conformant recordings (default: bundled, and the reference server's)"
    )
    selftest.add_argument("--min-score", type=float, default=0.99, help="share of mutants to kill, else exit 1")
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
    draft.add_argument("--force", action="store_true", help="replace an existing file at --out (default: off)")
    draft.set_defaults(handler=_lazy("respkit.conformance.commands:profile_draft"))

    from respkit.conformance.served_models import described

    serve = sub.add_parser("serve", help="run the reference server", epilog=described())
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--quirks",
        metavar="NAME",
        help="reproduce a provider's deviations (see --list-quirks; default: none, faithful)",
    )
    serve.add_argument("--list-quirks", action="store_true", help="list the quirk modes and exit")
    serve.add_argument(
        "--api-key", action="append", metavar="KEY", help="accept only these keys (default: none needed, any accepted)"
    )
    serve.add_argument(
        "--rate-limit", type=int, metavar="N", help="requests per minute per key before 429 (default: no limit)"
    )
    serve.add_argument(
        "--max-body-bytes", type=int, default=4 * 1024 * 1024, metavar="N", help="bytes a request body may have"
    )
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
    generate.add_argument(
        "--check", action="store_true", help="exit 1 when generated/ is stale; write nothing (default: off)"
    )
    generate.add_argument(
        "--out", metavar="DIR", help="write the package into DIR instead of the repository (default: generated/)"
    )
    generate.add_argument("--package", metavar="NAME", default="generated", help="the package's name (with --out)")
    generate.add_argument(
        "--spec", metavar="PATH_OR_URL", help="a copy of the pinned spec, same sha256 (default: the pin's copy or URL)"
    )
    generate.add_argument("--config", metavar="PATH", help="spec config (default: spec/respkit.yaml)")
    generate.add_argument(
        "--force", action="store_true", help="replace the package even if it holds files respkit did not write"
    )
    _bound_options(generate, SPEC_BOUNDS)
    generate.set_defaults(handler=_lazy("respkit.generator.commands:generate"))

    spec = sub.add_parser("spec", help="compare spec versions, update the pin")
    spec_sub = spec.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND", required=True)
    diff = spec_sub.add_parser("diff", help="what changed between two specs in /responses, breaking first")
    diff.add_argument("old", metavar="OLD", help="the older spec (a path or URL)")
    diff.add_argument("new", metavar="NEW", help="the newer spec (a path or URL)")
    diff.add_argument("--format", choices=["text", "markdown", "json"], default="text", help="how the diff is written")
    diff.add_argument(
        "--output", metavar="PATH", help="write the diff to PATH instead of standard output (default: none)"
    )
    _bound_options(diff, SPEC_BOUNDS)
    diff.set_defaults(handler=_lazy("respkit.generator.commands:spec_diff"))
    update = spec_sub.add_parser("update", help="move the pin to a new spec and regenerate")
    update.add_argument("--from", dest="source", required=True, metavar="PATH_OR_URL", help="the new spec (required)")
    update.add_argument(
        "--url", metavar="URL", help="where a local --from file came from (default: none; the pin says unpinned)"
    )
    update.add_argument(
        "--previous",
        metavar="PATH_OR_URL",
        help="a copy of the pinned spec, when neither its copy, URL nor cache is (default: none)",
    )
    update.add_argument("--config", metavar="PATH", help="spec config (default: spec/respkit.yaml)")
    _bound_options(update, SPEC_BOUNDS)
    update.set_defaults(handler=_lazy("respkit.generator.commands:spec_update"))
    return parser


def configured_parser() -> argparse.ArgumentParser:
    """The parser, with the defaults of `[tool.respkit]` in ./pyproject.toml."""
    from respkit.conformance.defaults import apply

    parser = build_parser()
    apply(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = configured_parser()
    except UsageError as exc:
        return _failed(exc)
    args = parser.parse_args(argv)
    args.started = datetime.now(UTC)  # the reports' date and duration
    from respkit.conformance.limits import from_args, using
    from respkit.conformance.redaction import redacting_output
    from respkit.conformance.selection import check_options

    with redacting_output():  # the console's redaction point: errors and tracebacks included
        try:
            check_options(args)
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
