"""Suite-wide: a test that needs `../shared` (the corpus, the seeds, the pinned spec's copy) skips with a
one-line reason naming what is missing, when a fresh clone does not have it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.paths import SHARED


def missing_shared(exc: BaseException | None) -> str | None:
    """The file of `../shared` whose absence raised `exc` (None: something else went wrong)."""
    if SHARED.is_dir() or not isinstance(exc, OSError) or exc.filename is None:
        return None
    path = Path(str(exc.filename))
    return str(path) if path.is_relative_to(SHARED) or str(SHARED) in str(path) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[Any]:
    outcome = yield
    missing = missing_shared(outcome.excinfo[1] if outcome.excinfo else None)
    if missing is not None:
        outcome.force_exception(pytest.skip.Exception(f"needs ../shared: {missing} is absent", _use_item_location=True))
