"""The generator's commands: `respkit generate` and `respkit spec diff|update`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.config import REPO_ROOT, display_path, load_config
from generator.output import compare_tree, write_tree
from generator.pipeline import prepare, render

GENERATED = REPO_ROOT / "generated"


def generate(args: argparse.Namespace) -> int:
    config = load_config(Path(args.config) if args.config else None)
    prepared = prepare(config, args.spec)
    package = args.package
    if not package.isidentifier():
        from conformance.cli import UsageError

        raise UsageError(f"--package {package!r} is not a valid Python package name")
    files = render(prepared, package)
    target = Path(args.out) / package if args.out else GENERATED
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
        print("regenerate with: respkit generate")
        return 1
    write_tree(target, files)
    print(f"wrote {len(files)} files to {display_path(target)} (spec sha256 {prepared.spec.sha256[:12]})")
    return 0
