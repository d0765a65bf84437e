"""The wheel is complete and holds one import package: installed outside the checkout, in an
interpreter that cannot see the checkout, `respkit` finds its profiles, templates and bundled
recordings, and its commands, its pytest plugin and the generated client work."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.paths import REPO, pytest_env
from tests.test_pytest_plugin import USER_TESTS

FOLDERS = ("conformance", "generator", "generated", "spec")


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO), cwd=dist)
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("respkit-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh interpreter (its own venv) that sees the wheel and the dependencies, not the checkout:
    the test venv's site-packages is on its path as a plain folder, so its editable hook never loads."""
    root = tmp_path_factory.mktemp("fresh")
    made = _run(sys.executable, "-m", "venv", "--without-pip", str(root / "venv"), cwd=root)
    assert made.returncode == 0, made.stderr
    site = root / "site"
    done = _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel), cwd=root)
    assert done.returncode == 0, done.stderr
    deps = sysconfig.get_paths()["purelib"]
    env = pytest_env(PYTHONPATH=os.pathsep.join([str(site), deps]))
    env.pop("RESPKIT_SPEC", None)
    bindir = "Scripts" if os.name == "nt" else "bin"
    return root / "venv" / bindir / "python", env


@pytest.mark.slow
def test_the_wheel_holds_one_top_level_package_and_every_folder(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {name.split("/")[0] for name in names} == {"respkit", "respkit-0.1.0.dist-info"}
    for folder in FOLDERS:  # every package folder of the checkout is in the wheel (pyproject lists them by hand)
        for init in (REPO / folder).rglob("__init__.py"):
            assert f"respkit/{init.relative_to(REPO).as_posix()}" in names, init
    for needed in (
        "spec/respkit.yaml",
        "spec/profiles/openai.yaml",
        "spec/profiles/strict.yaml",
        "spec/profile.schema.json",
        "generator/templates/client.py.jinja",
        "generator/templates/properties/output_text.py.jinja",
        "conformance/templates/report.html.jinja",
        "generated/schema.json",
        "conformance/recordings/openai",
    ):
        assert any(name == f"respkit/{needed}" or name.startswith(f"respkit/{needed}/") for name in names), needed
    entry_points = zipfile.ZipFile(wheel).read("respkit-0.1.0.dist-info/entry_points.txt").decode()
    assert "respkit = respkit.conformance.cli:main" in entry_points
    assert "respkit = respkit.conformance.pytest_plugin" in entry_points


@pytest.mark.slow
def test_an_installed_wheel_runs_outside_the_checkout(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    python, env = installed
    where = _run(str(python), "-c", "import respkit.conformance as c; print(c.__file__)", cwd=tmp_path, env=env)
    assert where.stdout.startswith(env["PYTHONPATH"].split(os.pathsep)[0]), where.stdout + where.stderr
    for bare in FOLDERS:  # the bare names are not importable: nothing of respkit's shadows a user's module
        missing = _run(str(python), "-c", f"import {bare}", cwd=tmp_path, env=env)
        assert "ModuleNotFoundError" in missing.stderr, bare

    replayed = _run(str(python), "-m", "respkit.conformance", "replay", "--html", "r.html", cwd=tmp_path, env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert "19 recordings: 0 failed" in replayed.stdout
    assert '<p class="verdict pass">19 recordings' in (tmp_path / "r.html").read_text()

    checked = _run(str(python), "-m", "respkit.conformance", "check", "--no-schemathesis", "--no-reports",
                   cwd=tmp_path, env=env)  # fmt: skip
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]


@pytest.mark.slow
def test_the_installed_generator_plugin_and_client_work(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    python, env = installed
    made = _run(str(python), "-m", "respkit.conformance", "generate", "--out", "out", "--package", "mine",
                cwd=tmp_path, env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "out" / "mine" / "client.py").is_file()
    assert (tmp_path / "out" / "mine" / "models.py").is_file()

    (tmp_path / "test_user.py").write_text(USER_TESTS)  # the plugin's fixtures, through the wheel's entry point
    tested = _run(str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "test_user.py",
                  cwd=tmp_path, env=env)  # fmt: skip
    assert "1 failed, 2 passed" in tested.stdout, tested.stdout[-3000:] + tested.stderr[-2000:]

    client = (
        "from respkit.conformance.server import run_server\n"
        "from respkit.generated import ResponsesClient, output_text\n"
        "with run_server(api_keys={'sk-w'}) as url, ResponsesClient(base_url=url, api_key='sk-w') as client:\n"
        "    print(output_text(client.responses.create(model='gpt-4.1', input='from the wheel')))\n"
    )
    answered = _run(str(python), "-c", client, cwd=tmp_path, env=env)
    assert answered.stdout.strip() == "You said: from the wheel", answered.stderr[-2000:]


def test_no_source_imports_a_folder_by_its_bare_name() -> None:
    """In the checkout the folders are importable bare too (the repository root is on the path), so a
    bare `import conformance` would pass here and break the installed wheel, or load a module twice."""
    import ast

    strays = []
    for path in [*REPO.glob("*/**/*.py")]:
        if path.parts[len(REPO.parts)] in (".venv", "build", "dist"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            strays += [f"{path.relative_to(REPO)}:{node.lineno}" for n in names if n.split(".")[0] in FOLDERS]
    assert strays == []
