"""Replacing several files and one folder together: stage everything beside its target, then swap it in.

If writing a staged copy fails, nothing was touched. If a swap fails, the swaps already made are
undone, so the targets are left exactly as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def _stage_text(path: Path, text: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    staged = Path(name)
    staged.chmod(0o644)
    return staged


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = _stage_text(path, text)
    try:
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def _stage_tree(target: Path, files: dict[str, str]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    for rel, text in files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    staging.chmod(0o755)
    return staging


def _discard(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _swap_text(path: Path, staged: Path) -> Callable[[], None]:
    """Move ``staged`` onto ``path``; return how to put the old content back."""
    old = path.read_bytes() if path.exists() else None
    os.replace(staged, path)

    def undo() -> None:
        if old is None:
            path.unlink(missing_ok=True)
        else:
            temp = _stage_text(path, "")
            temp.write_bytes(old)
            os.replace(temp, path)

    return undo


def _swap_tree(target: Path, staging: Path) -> Callable[[], None]:
    backup = target.with_name(f".{target.name}.old-{os.getpid()}")
    had = target.exists()
    if had:
        os.replace(target, backup)
    try:
        os.replace(staging, target)
    except BaseException:
        if had:
            os.replace(backup, target)
        raise

    def undo() -> None:
        shutil.rmtree(target, ignore_errors=True)
        if had:
            os.replace(backup, target)

    return undo


def commit(
    texts: dict[Path, str],
    tree: Path,
    files: dict[str, str],
    swap_text: Callable[[Path, Path], Callable[[], None]] = _swap_text,
) -> None:
    """Replace each text file and the folder ``tree`` (with exactly ``files``), all or nothing."""
    staged: dict[Path, Path] = {}
    staging: Path | None = None
    try:
        for path, text in texts.items():
            staged[path] = _stage_text(path, text)
        staging = _stage_tree(tree.resolve(), files)
    except BaseException:
        _discard([*staged.values(), *([staging] if staging else [])])
        raise
    undo: list[Callable[[], None]] = []
    try:
        undo.append(_swap_tree(tree.resolve(), staging))
        for path, temp in staged.items():
            undo.append(swap_text(path, temp))
    except BaseException:
        for step in reversed(undo):
            step()
        _discard([p for p in [*staged.values(), staging] if p.exists()])
        raise
    backup = tree.resolve().with_name(f".{tree.resolve().name}.old-{os.getpid()}")
    shutil.rmtree(backup, ignore_errors=True)
