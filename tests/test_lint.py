"""The house style holds: ruff (lint and format) is clean on everything but generated/."""

from __future__ import annotations

import subprocess
import sys

from tests.paths import REPO


def test_ruff_is_clean() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
