"""Client mistakes get a 4xx in OpenAI's error envelope (never a 5xx), and a key is never echoed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respkit.conformance.server import run_server
from respkit.conformance.server.selfcheck import spec_error

KEY = {"Authorization": "Bearer sk-test"}
SECRET = "sk-very-secret-key-0123456789"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_server(api_keys={"sk-test"}, max_body_bytes=2048) as url:
        yield url


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=KEY, timeout=30) as client:
        yield client


def envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert spec_error(body, "ErrorResponse") is None, spec_error(body, "ErrorResponse")
    error: dict[str, Any] = body["error"]
    return error


def test_missing_and_unknown_keys_are_401_without_the_key(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as anonymous:
        assert envelope(anonymous.get("/responses/resp_x"), 401)["code"] is None
        wrong = anonymous.get("/responses/resp_x", headers={"Authorization": f"Bearer {SECRET}"})
    assert envelope(wrong, 401)["code"] == "invalid_api_key"
    assert SECRET not in wrong.text and SECRET[-8:] not in wrong.text


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "gpt-4.1", "input": "x", "temperature": 9}, "temperature"),
        ({"model": "gpt-4.1", "input": [{"role": "wizard", "content": "x"}]}, "input"),
        ({"model": "gpt-4.1", "input": "x", "max_output_tokens": 3}, "max_output_tokens"),
        ({"input": "x"}, "model"),
        ({"model": "gpt-4.1", "input": "x", "background": True, "store": False}, "background"),
        # what providers omit is read by the models, never accepted by the server (OpenAI refuses these)
        ({"model": "gpt-4.1", "input": "x", "tools": [{"type": "code_interpreter"}]}, "tools"),
        ({"model": "gpt-4.1", "input": "x", "tools": [{"type": "x_search"}]}, "tools"),
        ({"model": "gpt-4.1", "input": "x", "text": {"format": {"type": "json_schema", "schema": {}}}}, "text"),
    ],
)
def test_invalid_body_is_400_naming_the_field(http: httpx.Client, body: dict[str, Any], param: str) -> None:
    error = envelope(http.post("/responses", json=body), 400)
    assert error["param"] is not None and error["param"].startswith(param)
    assert error["type"] == "invalid_request_error"


def test_malformed_json_non_object_and_wrong_content_type(http: httpx.Client) -> None:
    json_headers = {"Content-Type": "application/json"}
    assert envelope(http.post("/responses", content=b"{nope", headers=json_headers), 400)["param"] is None
    envelope(http.post("/responses", content=b"[1, 2]", headers=json_headers), 400)
    envelope(http.post("/responses", content=b"null", headers=json_headers), 400)
    envelope(http.post("/responses", content=b"\xff\xfe", headers=json_headers), 400)
    wrong_type = http.post("/responses", content=b"model=gpt-4.1", headers={"Content-Type": "text/plain"})
    assert envelope(wrong_type, 415)["code"] == "unsupported_content_type"


def test_unknown_path_method_and_id(http: httpx.Client) -> None:
    assert "Invalid URL" in envelope(http.get("/nothing/here"), 404)["message"]
    envelope(http.put("/responses"), 405)
    for response in (
        http.get("/responses/resp_unknown"),
        http.delete("/responses/resp_unknown"),
        http.post("/responses/resp_unknown/cancel"),
        http.get("/responses/resp_unknown/input_items"),
    ):
        assert envelope(response, 404)["param"] == "response_id"


def test_unknown_previous_response_is_400_as_at_openai(http: httpx.Client) -> None:
    body = {"model": "gpt-4.1", "input": "x", "previous_response_id": "resp_nope"}
    error = envelope(http.post("/responses", json=body), 400)
    assert (error["param"], error["code"]) == ("previous_response_id", "previous_response_not_found")


def test_body_over_the_limit_is_413(http: httpx.Client) -> None:
    big = {"model": "gpt-4.1", "input": "x" * 4096}
    assert envelope(http.post("/responses", json=big), 413)["code"] == "request_too_large"


def test_bad_query_parameters_are_400(http: httpx.Client) -> None:
    created = http.post("/responses", json={"model": "gpt-4.1", "input": "x"}).json()
    items = f"/responses/{created['id']}/input_items"
    assert envelope(http.get(items, params={"limit": 0}), 400)["param"] == "limit"
    assert envelope(http.get(items, params={"limit": "many"}), 400)["param"] == "limit"
    assert envelope(http.get(items, params={"order": "sideways"}), 400)["param"] == "order"
    assert envelope(http.get(items, params={"after": "msg_unknown"}), 400)["param"] == "after"
    replay = http.get(f"/responses/{created['id']}", params={"stream": "true", "starting_after": "x"})
    assert envelope(replay, 400)["param"] == "starting_after"
    padded = http.get(f"/responses/{created['id']}", params={"stream": "true", "include_obfuscation": "maybe"})
    assert envelope(padded, 400)["param"] == "include_obfuscation"
    assert envelope(http.get(f"/responses/{created['id']}", params={"stream": "yes"}), 400)["param"] == "stream"
    assert envelope(http.post(f"/responses/{created['id']}/cancel"), 400)["param"] is None


def test_rate_limit_is_429_with_retry_after() -> None:
    with run_server(rate_limit=1) as url, httpx.Client(base_url=url, headers=KEY, timeout=30) as client:
        client.get("/responses/resp_x")
        limited = client.get("/responses/resp_x")
        assert envelope(limited, 429)["code"] == "rate_limit_exceeded"
        assert int(limited.headers["Retry-After"]) >= 1
        other_key = client.get("/responses/resp_x", headers={"Authorization": "Bearer sk-other"})
    assert other_key.status_code == 404


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["model", "input", "tools", "text", "stream", "max_output_tokens", "metadata", "include"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(FIELDS, JSON, max_size=5))
def test_arbitrary_bodies_never_get_a_5xx(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/responses", json={"model": "gpt-4.1", **body})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert spec_error(response.json(), "ErrorResponse") is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=st.dictionaries(st.sampled_from(["type", "properties", "$ref", "minimum", "items", "anyOf"]), JSON))
def test_odd_client_schemas_never_get_a_5xx(http: httpx.Client, schema: dict[str, Any]) -> None:
    text = {"format": {"type": "json_schema", "name": "odd", "schema": schema}}
    tool = {"type": "function", "name": "odd", "strict": False, "parameters": schema}
    for body in ({"text": text}, {"tools": [tool]}):
        response = http.post("/responses", json={"model": "gpt-4.1", "input": "x", **body})
        assert response.status_code in (200, 400), response.text


def test_deeply_nested_bodies_are_400() -> None:
    headers = {**KEY, "Content-Type": "application/json"}
    with run_server() as url, httpx.Client(base_url=url, headers=headers, timeout=30) as roomy:
        for depth in (65, 5000, 200_000):
            body = '{"model": "gpt-4.1", "input": ' + "[" * depth + "]" * depth + "}"
            assert "nested" in envelope(roomy.post("/responses", content=body), 400)["message"]
