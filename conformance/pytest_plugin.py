"""respkit's pytest plugin (entry point `pytest11`, loaded wherever respkit is installed).

Fixtures for a user's own suite:

- `respkit_target`: `(base_url, api_key)`; the provider given with `--respkit-base-url` (key from the
  variable named by `--respkit-api-key-env`), else respkit's reference server started for the session;
- `respkit_profile`: the profile named by `--respkit-profile` (default `openai`, spec + errata, for the
  reference server too, which answers as OpenAI does);
- `assert_conformant`: call it with an `httpx.Response` (read or streamed) and it fails the test with
  the engine's findings when the response does not conform; deviations and drift do not fail.

Items of its own, for pytest and pytest-xdist to run (`conformance/pytest_items.py`): `--respkit-replay DIR`
(one per recording), `--respkit-base-url URL` and `--respkit-providers FILE` (one per scenario of each
target and profile); `--respkit-report-dir DIR` writes respkit's reports of them. Without these options
the plugin adds nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

LOCAL_KEY = "respkit-local-key"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("respkit", "Responses API conformance")
    group.addoption("--respkit-base-url", default=None, help="provider base URL (default: respkit's reference server)")
    group.addoption("--respkit-profile", default=None, help="provider profile for the findings")
    group.addoption(
        "--respkit-api-key-env",
        default="OPENAI_API_KEY",
        help="variable holding the provider's key (default: %(default)s)",
    )
    _item_options(group)


def _item_options(group: Any) -> None:
    """The options that make respkit's checks pytest items (see `pytest_items`)."""
    add = group.addoption
    add("--respkit-replay", action="append", metavar="DIR", help="one item per recording in DIR or file (repeatable)")
    add("--respkit-providers", metavar="FILE", help="YAML or TOML file of targets: items per target x profile")
    add("--respkit-report-dir", metavar="DIR", help="write respkit's JSON, JUnit, Markdown and HTML reports there")
    add("--respkit-model", help="with --respkit-base-url: model to ask for (default: the profile's, else gpt-4.1-mini)")
    add("--respkit-reasoning-model", help="with --respkit-base-url: reasoning model (default: the profile's)")
    add("--respkit-no-auth", action="store_true", help="with --respkit-base-url: send no key (a keyless local server)")
    add("--respkit-no-schemathesis", action="store_true", help="no schemathesis phase item for the live targets")
    add("--respkit-timeout", type=float, default=60.0, help="seconds to wait for any answer or data (default: 60)")
    add("--respkit-deadline", type=float, default=240.0, help="seconds each worker may talk to a target (default: 240)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "respkit: a respkit check made an item (a recording or a live scenario)")
    opt = config.getoption
    if opt("--respkit-replay") or opt("--respkit-base-url") or opt("--respkit-providers"):
        from respkit.conformance.pytest_items import configure

        configure(config)


@pytest.fixture(scope="session")
def respkit_target(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    url = request.config.getoption("--respkit-base-url")
    if url:
        var = request.config.getoption("--respkit-api-key-env")
        key = os.environ.get(var)
        if not key:
            pytest.fail(f"--respkit-api-key-env: environment variable {var} is not set", pytrace=False)
        yield url, key
        return
    from respkit.conformance.server import run_server

    with run_server(api_keys={LOCAL_KEY}) as local:
        yield local, LOCAL_KEY


@pytest.fixture(scope="session")
def respkit_profile(request: pytest.FixtureRequest) -> Any:
    from respkit.conformance.profiles import load_profile

    return load_profile(request.config.getoption("--respkit-profile") or "openai")


@pytest.fixture
def assert_conformant(respkit_profile: Any, request: pytest.FixtureRequest) -> Callable[..., None]:
    from respkit.conformance.live.runner import check_exchange
    from respkit.conformance.live.session import Exchange

    key_env = request.config.getoption("--respkit-api-key-env")

    def check(response: Any, operation: str = "createResponse") -> None:
        body = response.read()
        headers = {k.lower(): v for k, v in response.headers.items()}
        ctype = headers.get("content-type", "")
        kind = "error" if response.status_code >= 400 else "stream" if "event-stream" in ctype else "json"
        sent = response.request
        exchange = Exchange(
            "pytest", operation, sent.method, sent.url.path, None, response.status_code, headers, body,
            _reproduce(sent, key_env), kind,
        )  # fmt: skip
        failed = [f for f in check_exchange(exchange, respkit_profile) if f.fails]
        if failed:
            pytest.fail(_failure_message(failed), pytrace=False)

    return check


def _reproduce(sent: Any, key_env: str) -> str:
    """A curl line for the request a test sent: its URL and JSON body, the key as `$VAR`."""
    import json

    import httpx

    from respkit.conformance.findings import Source

    try:
        body = json.loads(sent.content) if sent.content else None
    except (httpx.RequestNotRead, ValueError):  # a streamed request body is not kept; a body not JSON not shown
        body = None
    return Source.live(str(sent.url), method=sent.method, path="", body=body, key_env=key_env).reproduce


def _failure_message(failed: list[Any]) -> str:
    """Each root cause once: what, where, expected, received and the reproduce line."""
    from respkit.conformance.findings import count, group
    from respkit.conformance.reports import describe

    causes = group(failed)
    shown = "\n".join(describe(g) for g in causes[:20])
    more = f"\n... and {count(len(causes) - 20, 'more failure')}" if len(causes) > 20 else ""
    return f"{count(len(causes), 'conformance failure')}:\n{shown}{more}"
