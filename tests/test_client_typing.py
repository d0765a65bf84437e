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
    (an argument `respkit/NAME` names the folder NAME through it)."""
    with tempfile.TemporaryDirectory() as tree:
        (Path(tree) / "respkit").mkdir()
        for folder in ("conformance", "generator", "generated", "spec"):
            (Path(tree) / "respkit" / folder).symlink_to(REPO / folder, target_is_directory=True)
        arguments = tuple(str(Path(tree) / a) if a.startswith("respkit/") else a for a in arguments)
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


WRONG_CALLS = "wrong_calls.py"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, list[str]]]:
    """One mypy --strict run over respkit itself, the generated package, the typed user script and a copy of
    that script with two wrong calls (one run: mypy analyses what they share once): its output, and its
    error lines by file (the wrong calls' file by its bare name)."""
    wrong = tmp_path_factory.mktemp("wrong") / WRONG_CALLS
    text = (REPO / "tests" / "typed_user_script.py").read_text()
    text = text.replace('service_tier="auto"', 'service_tier="sometimes"')
    wrong.write_text(f"{text}\n\ndef _wrong() -> None:\n    ResponsesClient().responses.retrieve(42)\n")
    args = ("respkit/conformance", "respkit/generator", "respkit/generated", "tests/typed_user_script.py")
    result = mypy(*args, str(wrong))
    errors: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        where, _, rest = line.partition(":")
        if rest and (": error:" in line or ": note:" in line):
            errors.setdefault(WRONG_CALLS if where.endswith(WRONG_CALLS) else where, []).append(line)
    assert errors or result.returncode == 0, output_of(result)  # no error line: mypy must have passed
    return output_of(result), errors


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.mark.slow
def test_respkit_itself_type_checks_strictly(checked: tuple[str, dict[str, list[str]]]) -> None:
    output, errors = checked
    assert "Found" in output or "Success" in output, output  # mypy ran to the end
    assert not [w for w in errors if "conformance" in w or "generator" in w], output


@pytest.mark.slow
def test_generated_package_and_user_script_type_check(checked: tuple[str, dict[str, list[str]]]) -> None:
    output, errors = checked
    assert "Found" in output or "Success" in output, output
    assert list(errors) == [WRONG_CALLS], output  # every error is in the wrong calls' file


@pytest.mark.slow
def test_a_wrong_call_is_caught(checked: tuple[str, dict[str, list[str]]]) -> None:
    output, errors = checked
    found = "\n".join(errors.get(WRONG_CALLS, []))
    assert 'No overload variant of "create"' in found, output
    assert 'Argument 1 to "retrieve"' in found or 'No overload variant of "retrieve"' in found, output
