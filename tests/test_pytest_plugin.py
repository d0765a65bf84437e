"""The pytest plugin, used the way a user would: a test file run by pytest in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import pytest_env

USER_TESTS = """
import httpx

def test_create_conforms(respkit_target, assert_conformant):
    url, key = respkit_target
    r = httpx.post(url + "/responses", json={"model": "gpt-4.1-mini", "input": "hi", "stream": True},
                   headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert_conformant(r)

def test_error_conforms(respkit_target, assert_conformant):
    url, key = respkit_target
    r = httpx.get(url + "/responses/resp_nope", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code == 404
    assert_conformant(r, operation="getResponse")

def test_a_broken_body_fails(respkit_target, assert_conformant):
    url, key = respkit_target
    r = httpx.post(url + "/responses", json={"model": "gpt-4.1-mini", "input": "hi"},
                   headers={"Authorization": f"Bearer {key}"}, timeout=30)
    body = r.content.replace(b'"status"', b'"statu"')
    broken = httpx.Response(200, headers={"content-type": "application/json"}, content=body, request=r.request)
    assert_conformant(broken)
"""


@pytest.mark.slow
def test_the_plugin_passes_conformant_traffic_and_fails_broken_traffic(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_user.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=pytest_env(),
    )  # fmt: skip
    assert "1 failed, 2 passed" in result.stdout, result.stdout[-3000:]
    assert "test_a_broken_body_fails" in result.stdout and "response_matches_schema" in result.stdout
