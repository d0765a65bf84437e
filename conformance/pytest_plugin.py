"""respkit's pytest plugin (entry point `pytest11`): fixtures for conformance tests in users' suites."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("respkit", "Responses API conformance")
    group.addoption("--respkit-base-url", default=None, help="provider base URL to check (default: none)")
    group.addoption("--respkit-profile", default=None, help="provider profile for the findings")
