"""The wheel is complete: installed outside the checkout, respkit finds its profiles, templates and
bundled recordings (a missing package-data line shows up here, not in a user's first run)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.paths import REPO


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_an_installed_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    built = _run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(REPO), cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("respkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "spec/respkit.yaml",
        "spec/profiles/openai.yaml",
        "spec/profiles/strict.yaml",
        "generator/templates/client.py.jinja",
        "conformance/templates/report.html.jinja",
        "generated/schema.json",
        "conformance/recordings/openai",
    ):
        assert any(name == needed or name.startswith(needed + "/") for name in names), needed
    assert not any(name.startswith("tests/") for name in names)

    site = tmp_path / "site"
    installed = _run(
        sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = _run(sys.executable, "-c", "import conformance; print(conformance.__file__)", cwd=elsewhere, env=env)
    assert where.stdout.startswith(str(site)), where.stdout  # the wheel's copy, not the checkout's
    replayed = _run(sys.executable, "-m", "conformance", "replay", "--html", "r.html", cwd=elsewhere, env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert "19 recordings: 0 failed" in replayed.stdout
    assert '<p class="verdict pass">19 recordings' in (elsewhere / "r.html").read_text()
