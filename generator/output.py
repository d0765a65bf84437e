"""Writing generated/ atomically, and comparing it with what would be generated now."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


def write_tree(target: Path, files: dict[str, str]) -> None:
    """Replace ``target`` with exactly ``files``; on any failure ``target`` is left as it was."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        backup = None
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, backup)
        staging.chmod(0o755)
        os.replace(staging, target)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def foreign(target: Path, files: Collection[str], mark: str) -> list[str]:
    """Files under ``target`` that writing ``files`` would delete and respkit did not write: not among
    ``files``, without ``mark`` in their first line, not a bytecode cache."""
    if not target.is_dir():
        return []
    found = []
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        rel = path.relative_to(target).as_posix()
        if rel not in files and "__pycache__" not in path.parts and mark not in _first_line(path):
            found.append(rel)
    return found


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.readline(4096).decode("utf-8", "replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class Stale:
    path: str
    reason: str  # "changed", "missing", "extra"
    diff: str = ""


def compare_tree(target: Path, files: dict[str, str], *, ignore: tuple[str, ...] = ("__pycache__",)) -> list[Stale]:
    """What differs between ``target`` on disk and ``files``."""
    stale: list[Stale] = []
    for rel, text in files.items():
        path = target / rel
        if not path.exists():
            stale.append(Stale(rel, "missing"))
            continue
        current = path.read_text(encoding="utf-8")
        if current != text:
            diff = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"{target.name}/{rel} (on disk)",
                    tofile=f"{target.name}/{rel} (generated now)",
                    n=2,
                )
            )
            stale.append(Stale(rel, "changed", diff))
    if target.exists():
        for path in sorted(target.rglob("*")):
            rel = path.relative_to(target).as_posix()
            if path.is_file() and rel not in files and not any(part in ignore for part in path.parts):
                stale.append(Stale(rel, "extra"))
    return stale
