"""The README stays true: its test command is what CI runs, and its client and pytest examples run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from respkit.conformance.server import run_server
from tests.paths import REPO, pytest_env

README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = next(b.strip() for b in _blocks("sh") if "pytest" in b)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command.replace("python3.11", '"$PYTHON"') in ci


def test_the_client_example_runs_against_the_reference_server() -> None:
    [example] = [b for b in _blocks("python") if "ResponsesClient" in b]
    with run_server() as url:
        code = example.replace("http://127.0.0.1:8000/v1", url)
        result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "You said: Say hello" in result.stdout


@pytest.mark.slow
def test_the_pytest_example_passes_against_the_reference_server(tmp_path: Path) -> None:
    [example] = [b for b in _blocks("python") if "assert_conformant" in b]
    (tmp_path / "test_provider.py").write_text(example)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_provider.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=pytest_env(),
    )  # fmt: skip
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout[-3000:]
