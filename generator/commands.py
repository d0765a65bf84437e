"""The generator's commands: `respkit generate` and `respkit spec diff|update`."""

from __future__ import annotations

import argparse
import keyword
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from respkit.generator.config import REPO_ROOT, display_path, load_config
from respkit.generator.errors import SpecError
from respkit.generator.output import compare_tree, foreign, write_tree
from respkit.generator.pipeline import HEADER_MARK, file_names, prepare, render

GENERATED = REPO_ROOT / "generated"  # the default config's; another config writes next to its own spec/


def _usage(message: str) -> Exception:
    from respkit.conformance.cli import UsageError

    return UsageError(message)


#: what the generated package imports: a package of one of these names would shadow it
RUNTIME_IMPORTS = frozenset({"httpx", "pydantic"})


def _package_problem(name: str) -> str | None:
    """Why `name` cannot be the generated package's name (None: it can): `import NAME` must work, and
    must not hide the standard library or a package the generated code imports."""
    if not name.isidentifier() or keyword.iskeyword(name):
        return "is not a valid Python package name (`import NAME` must work)"
    if name in sys.stdlib_module_names:
        return "would shadow the standard library module of that name"
    if name in RUNTIME_IMPORTS:
        return "would shadow a package the generated code imports"
    return None


def generate(args: argparse.Namespace) -> int:
    package = args.package
    problem = _package_problem(package)
    if problem is not None:
        raise _usage(f"--package {package!r} {problem}")
    if package != "generated" and not args.out:
        raise _usage("--package NAME needs --out DIR: the repository's own package is always `generated`")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise _usage(f"--out {args.out}: not a folder")
    config = load_config(Path(args.config) if args.config else None)
    target = Path(args.out) / package if args.out else config.root / "generated"
    prepared = prepare(config, args.spec)
    strangers = [] if args.force or args.check else foreign(target, file_names(), HEADER_MARK)
    if strangers:  # said before the package is rendered (the spec's own problems come first)
        shown = ", ".join(strangers[:5]) + (f" and {len(strangers) - 5} more" if len(strangers) > 5 else "")
        raise _usage(f"{display_path(target)} holds files respkit did not write ({shown}): move them, or --force")
    files = render(prepared, package)
    _tell_moot(prepared.moot)
    if args.check:
        stale = compare_tree(target, files)
        if not stale:
            print(f"{display_path(target)} is up to date ({len(files)} files)")
            return 0
        for item in stale:
            if item.diff:
                sys.stdout.write(item.diff[:4000])
                if len(item.diff) > 4000:
                    print("\n[... diff cut]")
        print(f"{display_path(target)} is stale:")
        for item in stale:
            print(f"  {item.reason:8} {display_path(target)}/{item.path}")
        print(f"regenerate with: {_again(args)}")
        return 1
    write_tree(target, files)
    print(f"wrote {len(files)} files to {display_path(target)} (spec sha256 {prepared.spec.sha256[:12]})")
    return 0


def _again(args: argparse.Namespace) -> str:
    """The command that regenerates what was checked: the user's own options, repeated."""
    words = ["respkit", "generate"]
    for option in ("config", "spec", "out"):
        if getattr(args, option):
            words += [f"--{option}", getattr(args, option)]
    if args.out:
        words += ["--package", args.package]
    return shlex.join(words)


def _tell_moot(moot: Sequence[object]) -> None:
    """Errata this spec version gives no target: skipped, and said so (stderr, so reports stay clean)."""
    for item in moot:
        print(f"respkit: note: erratum skipped, no target in this spec: {item}", file=sys.stderr)


def spec_diff(args: argparse.Namespace) -> int:
    """`respkit spec diff OLD NEW`: what changed in the `/responses` closure, breaking first."""
    from respkit.generator.diff_format import render
    from respkit.generator.diff_input import compare_sources
    from respkit.generator.staging import write_text_atomic

    text = render(compare_sources(args.old, args.new), args.format)
    if not args.output:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    try:
        write_text_atomic(out, text)
    except OSError as exc:
        raise SpecError(display_path(out), "", f"cannot write: {exc.strerror}") from None
    print(f"wrote the spec diff ({args.format}) to {display_path(out)}")
    return 0


def spec_update(args: argparse.Namespace) -> int:
    """`respkit spec update --from PATH_OR_URL`: move the pin, regenerate, write the changelog entry."""
    from respkit.generator.update import update

    result = update(Path(args.config) if args.config else None, args.source, args.url, args.previous)
    _tell_moot(result.moot)
    print(f"pinned {result.source} (sha256 {result.sha256[:12]}) in {display_path(result.config)}")
    print(f"wrote {result.files} files to {display_path(result.generated)}")
    print(f"changelog: {display_path(result.changelog)} ({result.summary})")
    return 0
