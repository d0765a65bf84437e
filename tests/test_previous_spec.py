"""The pinned spec, whatever it is: a copy of respkit moved to the older spec (`spec update`) checks its
own reference server to a pass, with every stream event type of that spec seen, and moves back clean."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import PREVIOUS_SPEC, REPO, SPEC, private_cache

FOLDERS = ("conformance", "generator", "generated", "spec")


def _copy(root: Path) -> dict[str, str]:
    """A copy of respkit's folders under ``root``/respkit, imported instead of the checkout's."""
    for folder in FOLDERS:
        shutil.copytree(REPO / folder, root / "respkit" / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return {**os.environ, "PYTHONPATH": str(root), "RESPKIT_CACHE_DIR": str(private_cache(root / "cache"))}


def _respkit(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "respkit.conformance", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_default_check_passes_under_the_previous_spec(tmp_path: Path) -> None:
    env = _copy(tmp_path)
    tree = tmp_path / "respkit"
    moved = _respkit(env, tree, "spec", "update", "--from", str(PREVIOUS_SPEC), "--previous", str(SPEC))
    assert moved.returncode == 0, moved.stderr
    assert "(sha256 74cbcf73838f)" in moved.stdout
    checked = _respkit(env, tmp_path, "check", "--no-reports")
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-2000:]
    seen = re.search(r"(\d+) of (\d+) stream event types seen", checked.stdout)
    assert seen is not None, checked.stdout[-2000:]
    assert seen[1] == seen[2] == "53", seen[0]  # every event type of the older spec, and none it lacks
