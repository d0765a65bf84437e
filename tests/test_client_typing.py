"""mypy --strict passes on the generated package (the client included) and on a typed user script."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.paths import REPO


def mypy(*targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", *targets],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_generated_package_and_user_script_type_check() -> None:
    result = mypy("generated", "tests/typed_user_script.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.mark.slow
def test_a_wrong_call_is_caught(tmp_path: object) -> None:
    wrong = REPO / "tests" / "typed_user_script.py"
    text = wrong.read_text().replace('service_tier="auto"', 'service_tier="sometimes"')
    source = f"{text}\n\ndef _wrong() -> None:\n    ResponsesClient().responses.retrieve(42)\n"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", "-c", source],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert 'No overload variant of "create"' in result.stdout
    assert 'Argument 1 to "retrieve"' in result.stdout or 'No overload variant of "retrieve"' in result.stdout
