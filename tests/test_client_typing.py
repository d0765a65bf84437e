"""mypy --strict passes on respkit itself, on the generated package (the client included) and on a typed user
script."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.paths import REPO


def mypy(*arguments: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict with `respkit.generated` laid out as installed: the editable install maps the folder
    through an import hook, which mypy does not run, so a link tree `respkit/*` stands in
    (GENERATED in `arguments` names it)."""
    with tempfile.TemporaryDirectory() as tree:
        (Path(tree) / "respkit").mkdir()
        for folder in ("conformance", "generator", "generated", "spec"):
            (Path(tree) / "respkit" / folder).symlink_to(REPO / folder, target_is_directory=True)
        linked = str(Path(tree) / "respkit" / "generated")
        arguments = tuple(linked if a == "GENERATED" else a for a in arguments)
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--no-incremental",
                "--cache-dir=/dev/null",
                "--explicit-package-bases",
                *arguments,
            ],
            cwd=REPO,
            env={**os.environ, "MYPYPATH": tree},
            capture_output=True,
            text=True,
            timeout=600,
        )


@pytest.mark.slow
def test_generated_package_and_user_script_type_check() -> None:
    result = mypy("GENERATED", "tests/typed_user_script.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.mark.slow
def test_a_wrong_call_is_caught(tmp_path: object) -> None:
    wrong = REPO / "tests" / "typed_user_script.py"
    text = wrong.read_text().replace('service_tier="auto"', 'service_tier="sometimes"')
    source = f"{text}\n\ndef _wrong() -> None:\n    ResponsesClient().responses.retrieve(42)\n"
    result = mypy("-c", source)
    assert result.returncode == 1
    assert 'No overload variant of "create"' in result.stdout
    assert 'Argument 1 to "retrieve"' in result.stdout or 'No overload variant of "retrieve"' in result.stdout


@pytest.mark.slow
def test_respkit_itself_type_checks_strictly() -> None:
    result = mypy("-p", "respkit.conformance", "-p", "respkit.generator")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
