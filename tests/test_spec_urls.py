"""Specs given by URL are fetched over real HTTP (a static file server on 127.0.0.1); a fetch that fails
is one line that names the URL and says how to work offline."""

from __future__ import annotations

import functools
import re
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from respkit.conformance.cli import main
from tests.paths import SPEC, private_cache


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def spec_server() -> Iterator[str]:
    """The shared spec/ folder over HTTP; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(SPEC.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_generate_from_a_url(spec_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    url = f"{spec_server}/{SPEC.name}"
    assert main(["generate", "--spec", url, "--out", str(out), "--package", "mine"]) == 0
    assert re.search(r"wrote \d+ files", capsys.readouterr().out)
    assert (out / "mine" / "client.py").is_file()


def test_diff_of_two_urls(spec_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    old = f"{spec_server}/previous/openai-openapi.2026-06.yaml"
    assert main(["spec", "diff", old, f"{spec_server}/{SPEC.name}", "--format", "json"]) == 0
    assert '"subject": "stream event response.shell_call_command.added"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("where", "why"),
    [("missing", "cannot fetch (HTTP 404)"), ("closed", "cannot fetch (ConnectError)")],
)
def test_a_failed_fetch_is_one_line(
    spec_server: str,
    where: str,
    why: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no cached copy to fall back on
    monkeypatch.setenv("RESPKIT_CACHE_DIR", str(private_cache(tmp_path / "empty-cache")))
    url = f"{spec_server}/nope.yaml" if where == "missing" else f"http://127.0.0.1:{_closed_port()}/spec.yaml"
    out = tmp_path / "out"
    assert main(["generate", "--spec", url, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"respkit: error: {url}: {why}; give a local copy with --spec PATH or RESPKIT_SPEC"]
    assert not out.exists()


def test_a_fetched_spec_is_cached_by_sha256_and_the_next_run_works_offline(
    spec_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RESPKIT_CACHE_DIR", str(private_cache(tmp_path / "cache")))
    out = tmp_path / "out"
    assert main(["generate", "--spec", f"{spec_server}/{SPEC.name}", "--out", str(out), "--package", "mine"]) == 0
    [kept] = (tmp_path / "cache" / "specs").glob("*/*")
    assert kept.read_bytes() == SPEC.read_bytes() and kept.name == SPEC.name
    offline = f"http://127.0.0.1:{_closed_port()}/{SPEC.name}"
    assert main(["generate", "--check", "--spec", offline, "--out", str(out), "--package", "mine"]) == 0
    kept.write_bytes(kept.read_bytes() + b"\n# changed\n")  # a cached copy that no longer verifies is not used
    assert main(["generate", "--check", "--spec", offline, "--out", str(out), "--package", "mine"]) == 2
    assert "cannot fetch" in capsys.readouterr().err
