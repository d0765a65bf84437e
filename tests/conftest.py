"""Suite-wide: a test that needs `../shared` (the corpus, the seeds, the spec copies) skips with a one-line
reason naming what is missing when a fresh clone does not have it; the rest of the suite runs."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from respkit.conformance.server import run_server
from tests import paths

#: the names of tests/paths.py a test reads `../shared` through, and what each needs
NEEDS = {
    "CORPUS": paths.CORPUS,
    "corpus_files": paths.CORPUS,
    "SEEDS": paths.SEEDS,
    "PREVIOUS_SPEC": paths.PREVIOUS_SPEC,
    "SPEC": paths.SPEC,
}


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _needed(item: pytest.Item) -> Path | None:
    """The first absent part of `../shared` the test's own code, or its fixtures' code, names."""
    func = getattr(item, "function", None)
    fixtures = getattr(item, "_fixtureinfo", None)
    defs = [
        d.func
        for name in (fixtures.names_closure if fixtures else ())
        for d in item.session._fixturemanager.getfixturedefs(name, item) or ()
    ]  # type: ignore[attr-defined]
    text = "\n".join(_source(f) for f in [func, *defs] if f is not None)
    globals_ = _shared_globals(item.module) if getattr(item, "module", None) else {}  # type: ignore[attr-defined]
    for name, path in NEEDS.items():
        users = [g for g, needs in globals_.items() if name in needs]
        if not path.exists() and any(_names(text, n) for n in [name, *users]):
            return path
    return None


def _shared_globals(module: Any) -> dict[str, set[str]]:
    """The module-level names whose value is computed from `../shared` (e.g. a list of its streams), with
    the NEEDS names each one uses."""
    import ast

    found: dict[str, set[str]] = {}
    for node in ast.parse(_source(module)).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)} if node.value else set()
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in (t for t in targets if isinstance(t, ast.Name)):
                found[target.id] = used & set(NEEDS)
    return found


def _names(text: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", text) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _slow_modules_first(items)
    if paths.SHARED.is_dir():
        return
    for item in items:
        needed = _needed(item)
        if needed is not None:
            item.add_marker(pytest.mark.skip(reason=f"needs ../shared: {needed} is absent"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist, whole modules to a worker (`--dist loadfile`): each module fixture (a mypy run,
    a render, a pytest run with workers of its own, a server) is made once per suite, not once per worker.
    The modules go out in collection order (`_slow_modules_first`), not xdist's default of the most tests
    first, which would leave the one-test modules that take half a minute for the end."""
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False
    return LoadFileScheduling(config, log)


def _slow_modules_first(items: list[pytest.Item]) -> None:
    """The modules that hold a `slow` test run first, the rest after, each in its own order: the workers
    (`--dist loadfile` hands out whole modules in this order) take the long ones while there is other work
    to balance them, and the run ends on short modules, not on one worker busy alone with a long one."""
    slow = {item.module.__name__ for item in items if item.get_closest_marker("slow") and hasattr(item, "module")}
    items.sort(key=lambda item: getattr(getattr(item, "module", None), "__name__", "") not in slow)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """A reference server with its defaults, one per module (a module that needs options defines its own)."""
    with run_server() as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[OpenAI]:
    """The official SDK against `base_url`, closed after the test (an unclosed pool warns when collected)."""
    with OpenAI(base_url=base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def missing_shared(exc: BaseException | None) -> str | None:
    """The file of `../shared` whose absence raised `exc` (None: something else went wrong)."""
    if paths.SHARED.is_dir() or not isinstance(exc, OSError) or exc.filename is None:
        return None
    path = Path(str(exc.filename))
    return str(path) if path.is_relative_to(paths.SHARED) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[Any]:
    outcome = yield
    missing = missing_shared(outcome.excinfo[1] if outcome.excinfo else None)
    if missing is not None:
        outcome.force_exception(pytest.skip.Exception(f"needs ../shared: {missing} is absent", _use_item_location=True))
