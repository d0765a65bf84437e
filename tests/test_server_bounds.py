"""Every resource a request can make `respkit serve` spend is bounded: validation time, stored bytes, rate
limiter keys, generated output, and the time a slow client may take; hitting a bound is a 4xx in OpenAI's
error envelope, never a 5xx, a crash or a hang (issue 14). Over real HTTP on 127.0.0.1, each test bounded
in time by generous timeouts (no timed assertions)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respkit.conformance.cli import main
from respkit.conformance.server import model, run_server
from respkit.conformance.server.errors import ApiError
from respkit.conformance.server.guards import WINDOW_SECONDS, RateLimiter
from respkit.conformance.server.items import input_items
from respkit.conformance.server.record import Record
from respkit.conformance.server.selfcheck import spec_error
from respkit.conformance.server.sizing import record_bytes
from respkit.conformance.server.store import Store

KEY = {"Authorization": "Bearer sk-test"}
JSON_HEADERS = {**KEY, "Content-Type": "application/json"}
#: generous: a bounded server answers in well under a second; a stalled one never does
PATIENCE = 30.0
#: seconds another client may wait while a big request is handled (generous: it waits milliseconds)
STALL = 10.0


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_server(read_timeout=1.0) as url:
        yield url


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=KEY, timeout=PATIENCE) as client:
        yield client


def envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    body: dict[str, Any] = response.json()
    assert spec_error(body, "ErrorResponse") is None, spec_error(body, "ErrorResponse")
    error: dict[str, Any] = body["error"]
    return error


def _items(count: int, role: str = "user") -> list[dict[str, str]]:
    return [{"role": role, "content": str(i)} for i in range(count)]


# -- validation: bounded, and off the event loop ---------------------------------------------------------


def _answered_meanwhile(other: httpx.Client, big: Future[httpx.Response]) -> int:
    """How many requests of another client were answered while `big` was in flight (at least one), each
    within `STALL` seconds."""
    answered = 0
    while answered == 0 or not big.done():
        assert envelope(other.get("/responses/resp_unknown", timeout=STALL), 404)["param"] == "response_id"
        answered += 1
        time.sleep(0.05)
    return answered


@pytest.mark.parametrize(
    "valid",
    [0, 99_999],  # the 3 MB body of bad items (24 GB, then killed); one bad item last (17 s of best_match)
    ids=["100k-invalid-items", "one-invalid-item-after-99999-valid"],
)
def test_a_big_invalid_body_is_a_400_and_stalls_no_other_client(base_url: str, valid: int) -> None:
    items = [*_items(valid), *_items(100_000 - valid, role="wizard")]
    raw = json.dumps({"model": "gpt-4.1", "input": items}, separators=(",", ":")).encode()  # 3.3 MB
    with ThreadPoolExecutor(1) as pool, httpx.Client(base_url=base_url, headers=KEY, timeout=PATIENCE) as other:
        big = pool.submit(httpx.post, base_url + "/responses", content=raw, headers=JSON_HEADERS, timeout=120)
        assert _answered_meanwhile(other, big) >= 1
        assert other.post("/responses", json={"model": "gpt-4.1", "input": "hi"}).status_code == 200
        error = envelope(big.result(timeout=120), 400)
    assert (error["param"], error["type"]) == (f"input[{valid}].role", "invalid_request_error")


# -- the JSON text itself --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "gpt-4.1", "input": "\\ud800"}',
        b'{"model": "gpt-4.1", "input": "ok", "metadata": {"\\udfff": "key"}}',
        b'{"model": "gpt-4.1", "input": "x", "temperature": NaN}',
        b'{"model": "gpt-4.1", "input": "x", "temperature": Infinity}',
        b'{"model": "gpt-4.1", "input": "x", "top_p": -Infinity}',
        b'{"model": "gpt-4.1", "input": "x", "temperature": 1e400}',
    ],
    ids=["lone-high-surrogate", "lone-low-surrogate-in-a-key", "nan", "infinity", "minus-infinity", "overflow"],
)
def test_json_that_is_not_json_is_a_400(http: httpx.Client, raw: bytes) -> None:
    error = envelope(http.post("/responses", content=raw, headers=JSON_HEADERS), 400)
    assert error["type"] == "invalid_request_error" and "JSON" in error["message"]


# -- parameters OpenAI refuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/responses", {"model": "gpt-4.1", "input": "x", "foo": 1}),
        ("/responses/input_tokens", {"model": "gpt-4.1", "input": "x", "foo": 1}),
        ("/responses/compact", {"model": "gpt-4.1", "input": "x", "foo": 1}),
    ],
)
def test_an_unknown_parameter_is_a_400_as_openai_words_it(http: httpx.Client, path: str, body: dict[str, Any]) -> None:
    error = envelope(http.post(path, json=body), 400)
    assert error == {
        "message": "Unknown parameter: 'foo'.",
        "type": "invalid_request_error",
        "param": "foo",
        "code": "unknown_parameter",
    }


@pytest.mark.parametrize(
    ("raw", "param", "code"),
    [
        (b'"max_output_tokens": 1e30', "max_output_tokens", "integer_above_max_value"),
        (b'"max_output_tokens": 100000000000000000000000', "max_output_tokens", "integer_above_max_value"),
        (b'"max_tool_calls": -1e30', "max_tool_calls", "integer_below_min_value"),
    ],
)
def test_an_out_of_range_integer_is_a_400_naming_it(http: httpx.Client, raw: bytes, param: str, code: str) -> None:
    body = b'{"model": "gpt-4.1", "input": "x", ' + raw + b"}"
    error = envelope(http.post("/responses", content=body, headers=JSON_HEADERS), 400)
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert error["message"].startswith(f"Invalid '{param}': integer ")


# -- the store: a byte cap, oldest first, background jobs included -------------------------------------------


def _record(count: int, **extra: Any) -> Record:
    body = {"model": "gpt-4.1", "input": _items(count), **extra}
    items = input_items(body["input"])
    return Record(body, model.respond(body, [], items), items, [])


def test_a_records_accounted_bytes_cover_the_memory_it_keeps() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        record = _record(20_000)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept <= record_bytes(record) <= 3 * kept


def test_the_store_keeps_under_its_byte_cap_dropping_the_oldest() -> None:
    records = [_record(2_000) for _ in range(10)]
    size = record_bytes(records[0])
    store = Store(max_bytes=3 * size + size // 2)
    for record in records:
        store.add(record, record_bytes(record))
        assert store.bytes <= store.max_bytes
    assert [r.id for r in records if store.has(r.id)] == [r.id for r in records[-3:]]


def test_finished_background_jobs_are_evicted_and_eviction_never_stops() -> None:
    async def scenario() -> None:
        size = record_bytes(_record(100))
        store = Store(max_bytes=4 * size)
        jobs = [_record(100, background=True), _record(100, background=True, input="[hold] wait")]
        for record in jobs:
            store.add(record, size)
            store.start(record)
        await asyncio.sleep(0.5)  # the first job finishes (its event log goes with it); the held one runs on
        assert store.job(jobs[0].id) is None and store.job(jobs[1].id) is not None
        for _ in range(10):
            record = _record(100)
            store.add(record, size)
        assert store.bytes <= store.max_bytes
        assert not store.has(jobs[0].id) and not store.has(jobs[1].id)
        assert jobs[1].status == "cancelled"  # the held job was stopped, not left running unreachable
        await store.close()

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_stream_of_large_stored_requests_stays_under_the_cap_over_http() -> None:
    cap = 16 * 1024 * 1024  # 14 answers of ~10 MB stored: 140 MB kept without the cap, beyond what is allowed
    with _Served("--max-store-bytes", str(cap)) as (url, process):
        ids = []
        with httpx.Client(base_url=url, headers=KEY, timeout=PATIENCE) as client:
            client.post("/responses", json={"model": "gpt-4.1", "input": "warm up"})
            baseline = _memory_kib(process.pid, "VmRSS")
            body = {"model": "gpt-4.1", "input": _items(12_500)}  # 0.3 MB of JSON; 10 MB once parsed and stored
            for _ in range(14):
                answer = client.post("/responses", json=body)
                assert answer.status_code == 200, answer.text[:300]
                ids.append(answer.json()["id"])
            grown = (_memory_kib(process.pid, "VmHWM") - baseline) * 1024
            assert client.get(f"/responses/{ids[-1]}").status_code == 200
            assert envelope(client.get(f"/responses/{ids[0]}"), 404)["param"] == "response_id"
    assert grown < cap + 64 * 1024 * 1024, f"peak memory grew by {grown / 2**20:.0f} MiB"


def test_a_response_too_big_for_the_store_is_a_413_not_a_lost_record() -> None:
    with run_server(max_store_bytes=1_000_000) as url, httpx.Client(base_url=url, headers=KEY, timeout=PATIENCE) as c:
        error = envelope(c.post("/responses", json={"model": "gpt-4.1", "input": _items(5_000)}), 413)
        assert "--max-store-bytes" in error["message"] and error["type"] == "invalid_request_error"
        unstored = c.post("/responses", json={"model": "gpt-4.1", "input": _items(5_000), "store": False})
        assert unstored.status_code == 200


# -- the rate limiter forgets idle keys ------------------------------------------------------------------------


def test_the_rate_limiter_forgets_keys_idle_for_a_window() -> None:
    now = [0.0]
    limiter = RateLimiter(1, clock=lambda: now[0])
    for n in range(10_000):
        limiter.check(f"sk-{n}")
    now[0] += WINDOW_SECONDS / 2
    with pytest.raises(ApiError):  # a key seen within the window is still counted
        limiter.check("sk-0")
    now[0] += WINDOW_SECONDS / 2
    limiter.check("sk-late")
    assert len(limiter) == 1


# -- generated output from a client's schema ----------------------------------------------------------------


def test_a_client_schema_that_multiplies_is_answered_small(http: httpx.Client) -> None:
    nested: dict[str, Any] = {"type": "string"}
    for _ in range(5):
        nested = {"type": "array", "minItems": 100, "items": nested}
    tool = {"type": "function", "name": "f", "strict": False, "parameters": nested}
    answer = http.post("/responses", json={"model": "gpt-4.1", "input": "x", "tools": [tool]})
    assert answer.status_code == 200 and len(answer.content) < 1_000_000


# -- slow clients -----------------------------------------------------------------------------------------------


def _address(base_url: str) -> tuple[str, int]:
    host, port = base_url.removeprefix("http://").split("/")[0].split(":")
    return host, int(port)


def _answer_of(sock: socket.socket, stop: threading.Event | None = None) -> bytes:
    """What the server sends before it closes the connection (b"" for a silent close); the drip `stop`s
    once it answers (a byte sent after its close makes it reset the connection)."""
    sock.settimeout(PATIENCE)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
            if stop:
                stop.set()
    except ConnectionResetError:
        pass
    return received


def _drip(sock: socket.socket, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        try:
            sock.sendall(b"x")
        except OSError:
            return


def test_a_silent_connection_is_closed(base_url: str) -> None:
    with socket.create_connection(_address(base_url), timeout=PATIENCE) as sock:
        assert _answer_of(sock) == b""


def _dripped(base_url: str, start: bytes) -> bytes:
    """What the server answers a client that sends `start`, then one byte at a time, never finishing."""
    stop = threading.Event()
    with socket.create_connection(_address(base_url), timeout=PATIENCE) as sock:
        sock.sendall(start)
        threading.Thread(target=_drip, args=(sock, stop), daemon=True).start()
        try:
            return _answer_of(sock, stop)
        finally:
            stop.set()


def _assert_408(answer: bytes) -> None:
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_timeout"


def test_headers_that_drip_get_a_408(base_url: str) -> None:
    _assert_408(_dripped(base_url, b"GET /v1/responses/resp_x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "))


def test_a_body_that_drips_gets_a_408(base_url: str) -> None:
    head = "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-test\r\n"
    head += "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    _assert_408(_dripped(base_url, head.encode() + b'{"model": "gpt-4.1", "input": "'))


# -- fuzz: whatever the body, never a 5xx --------------------------------------------------------------------

_TEXT = st.text(max_size=8) | st.sampled_from(["\\ud800", "\\udfff", "\\u0000", "\u2028"])
_NUMBER = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e30", "-1e30", "1e400", "1e-400", "-0", "1" + "0" * 30])
_SCALAR = st.one_of(
    st.sampled_from(["null", "true", "false"]),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    _NUMBER,
    _TEXT.map(lambda t: '"' + t.replace('"', "") + '"'),
)


def _object(members: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f'"{key}": {value}' for key, value in members) + "}"


def _containers(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Arrays and objects of `inner` values, as JSON text."""
    arrays = st.lists(inner, max_size=4).map(lambda v: "[" + ",".join(v) + "]")
    keys = _TEXT.map(lambda t: t.replace('"', ""))
    return arrays | st.lists(st.tuples(keys, inner), max_size=4).map(_object)


_VALUE = st.recursive(_SCALAR, _containers, max_leaves=10)
_FIELD = st.sampled_from(
    ["model", "input", "tools", "text", "stream", "max_output_tokens", "temperature", "metadata", "include",
     "store", "background", "previous_response_id", "top_logprobs", "max_tool_calls", "unknown_field"]
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(st.tuples(_FIELD, _VALUE), max_size=5), path=st.sampled_from(["", "/input_tokens"]))
def test_fuzzed_json_texts_never_get_a_5xx(http: httpx.Client, members: list[tuple[str, str]], path: str) -> None:
    raw = _object([("model", '"gpt-4.1"'), *members]).encode("utf-8", "surrogatepass")
    response = http.post("/responses" + path, content=raw, headers=JSON_HEADERS)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert spec_error(response.json(), "ErrorResponse") is None


@pytest.mark.parametrize(("option", "value"), [("--max-store-bytes", "0"), ("--read-timeout", "0")])
def test_a_bound_set_to_nothing_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    assert main(["serve", option, value]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option in err


# -- helpers: a real `respkit serve` process -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class _Served:
    def __init__(self, *options: str) -> None:
        self.port = _free_port()
        argv = [sys.executable, "-m", "respkit.conformance", "serve", "--port", str(self.port), *options]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})

    def __enter__(self) -> tuple[str, subprocess.Popen[bytes]]:
        url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                httpx.get(url + "/responses/x", timeout=1)
                return url, self.process
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("respkit serve did not start: " + self._stop()[-500:])

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> str:
        self.process.terminate()
        _, err = self.process.communicate(timeout=PATIENCE)
        return err.decode()
