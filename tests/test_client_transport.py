"""The generated client against a scripted server: retries and backoff, Retry-After, idempotency keys,
every typed error, bodies in other envelopes, a reset in the middle of a stream, timeouts, configuration."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from respkit.conformance.recordings import HERE as BUNDLED
from respkit.generated import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncResponsesClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponsesClient,
    UnprocessableEntityError,
    models,
    output_text,
)
from tests._client_server import Reply, Script, scripted_server

# the repository's own recordings (OpenAI's documented examples), so a clone without ../shared runs these
RESPONSE = json.loads((BUNDLED / "openai" / "text_input.json").read_text())
TEXT = output_text(models.Response.model_validate(RESPONSE))
STREAM = (BUNDLED / "openai" / "streaming.sse").read_bytes()
KEY = "sk-transport-secret-1234567890"


@contextmanager
def served(*replies: Reply, **options: Any) -> Iterator[tuple[ResponsesClient, Script]]:
    with scripted_server(*replies) as (url, script), ResponsesClient(base_url=url, api_key=KEY, **options) as client:
        yield client, script


def envelope(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def test_429_with_retry_after_then_success_reuses_the_idempotency_key() -> None:
    limited = Reply.json(envelope("slow down", "rate_limit_error", "rate_limit_exceeded"), 429, **{"Retry-After": "0"})
    with served(limited, Reply.json(RESPONSE)) as (client, script):
        response = client.responses.create(model="gpt-4.1", input="hi")
    assert output_text(response) == TEXT
    first, second = script.seen
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.headers["idempotency-key"].startswith("respkit-")
    assert "x-retry-count" not in first.headers and second.headers["x-retry-count"] == "1"
    assert first.json() == second.json() == {"model": "gpt-4.1", "input": "hi"}


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_retryable_statuses_honour_retry_after_ms(status: int) -> None:
    busy = Reply.json(envelope("busy", "server_error"), status, **{"retry-after-ms": "5"})
    with served(busy, Reply.json(RESPONSE)) as (client, script):
        assert client.responses.retrieve("resp_1").id == RESPONSE["id"]
    assert len(script.seen) == 2
    assert "idempotency-key" not in script.seen[0].headers  # only POSTs carry one


def test_retries_stop_at_max_retries_and_x_should_retry_wins() -> None:
    failing = Reply.json(envelope("boom", "server_error"), 500, **{"retry-after": "0"})
    with served(failing, max_retries=3) as (client, script), pytest.raises(InternalServerError):
        client.responses.retrieve("resp_1")
    assert len(script.seen) == 4
    final = Reply.json(envelope("boom", "server_error"), 500, **{"x-should-retry": "false"})
    with served(final) as (client, script), pytest.raises(InternalServerError):
        client.responses.retrieve("resp_1")
    assert len(script.seen) == 1
    not_retryable = Reply.json(envelope("bad", "invalid_request_error"), 400, **{"x-should-retry": "true"})
    with served(not_retryable, Reply.json(RESPONSE)) as (client, script):
        client.responses.retrieve("resp_1")
    assert len(script.seen) == 2


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
def test_each_status_gives_its_typed_error_with_the_envelope_fields(status: int, cls: type[APIStatusError]) -> None:
    body = envelope("it went wrong", "some_type", "some_code", "input")
    reply = Reply.json(body, status, **{"x-request-id": "req_42"})
    with served(reply, max_retries=0) as (client, _), pytest.raises(cls) as caught:
        client.responses.create(model="gpt-4.1", input="hi")
    error = caught.value
    assert type(error) is cls and error.status_code == status
    assert (error.message, error.type, error.code, error.param) == ("it went wrong", "some_type", "some_code", "input")
    assert error.request_id == "req_42" and error.body == body
    assert str(error) == f"HTTP {status}: it went wrong"


def test_other_envelopes_keep_the_class_and_the_raw_body() -> None:
    acedata = {"success": False, "error": {"code": "too_many_requests", "message": "slow"}, "trace_id": "t-1"}
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    replies = [
        Reply.json(acedata, 429),
        Reply(status=502, body=html, content_type="text/html"),
        Reply(status=500, body=b"", content_type="text/plain"),
        Reply(status=400, body=b'{"message": "bare", "code": "bad"}'),
    ]
    with scripted_server(*replies) as (url, _), ResponsesClient(base_url=url, api_key=KEY, max_retries=0) as client:
        with pytest.raises(RateLimitError) as ace:
            client.responses.retrieve("resp_1")
        with pytest.raises(InternalServerError) as page:
            client.responses.retrieve("resp_1")
        with pytest.raises(InternalServerError) as empty:
            client.responses.retrieve("resp_1")
        with pytest.raises(BadRequestError) as bare:
            client.responses.retrieve("resp_1")
    assert (ace.value.code, ace.value.message, ace.value.body) == ("too_many_requests", "slow", acedata)
    assert page.value.body == html.decode() and "502 Bad Gateway" in page.value.message
    assert empty.value.message == "Internal Server Error" and empty.value.body == ""
    assert (bare.value.message, bare.value.code) == ("bare", "bad")


def test_the_api_key_never_appears_in_errors_or_reprs() -> None:
    echoed = Reply.json(envelope(f"Incorrect API key provided: {KEY}", "invalid_request_error"), 401)
    with served(echoed, max_retries=0) as (client, script):
        with pytest.raises(AuthenticationError) as caught:
            client.responses.create(model="gpt-4.1", input="hi")
        shown = [
            str(caught.value),
            repr(caught.value),
            caught.value.message,
            str(caught.value.body),
            repr(client),
            repr(client._transport),
        ]
    assert script.seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert not [text for text in shown if KEY in text]
    assert "***" in caught.value.message


def _events(stream: bytes) -> list[bytes]:
    return [frame + b"\n\n" for frame in stream.split(b"\n\n") if frame.strip()]


def test_a_reset_in_the_middle_of_a_stream_raises_a_connection_error_and_is_not_retried() -> None:
    frames = _events(STREAM)
    with served(Reply.sse(*frames[:5], reset=True)) as (client, script):
        stream = client.responses.create(model="gpt-4.1", input="hi", stream=True)
        seen = []
        with pytest.raises(APIConnectionError) as caught:
            for event in stream:
                seen.append(event.type)
    assert seen[:2] == ["response.created", "response.in_progress"] and len(seen) == 5
    assert "broke off" in str(caught.value)
    assert len(script.seen) == 1


def test_connection_refused_is_retried_then_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with (
        ResponsesClient(base_url=url, api_key=KEY, max_retries=1) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.responses.create(model="gpt-4.1", input="hi")
    assert not isinstance(caught.value, APITimeoutError)
    assert "ConnectError" in str(caught.value)


def test_read_timeouts_are_retried_for_posts_only_with_an_idempotency_key() -> None:
    slow = replace(Reply.json(RESPONSE), delay=1.0)
    with served(slow, max_retries=1, timeout=0.2) as (client, script), pytest.raises(APITimeoutError):
        client.responses.create(model="gpt-4.1", input="hi")
    assert len(script.seen) == 2
    with served(slow, max_retries=1, timeout=0.2, idempotency_keys=False) as (client, script):
        with pytest.raises(APITimeoutError):
            client.responses.create(model="gpt-4.1", input="hi")
        assert len(script.seen) == 1 and "idempotency-key" not in script.seen[0].headers
        with pytest.raises(APITimeoutError):
            client.responses.retrieve("resp_1")
    assert len(script.seen) == 3


def test_timeout_per_call_overrides_the_client() -> None:
    with served(replace(Reply.json(RESPONSE), delay=0.3), max_retries=0, timeout=0.05) as (client, _):
        assert client.responses.retrieve("resp_1", timeout=10.0).id == RESPONSE["id"]
        with pytest.raises(APITimeoutError):
            client.responses.retrieve("resp_1")


def test_environment_headers_and_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    page = {"object": "list", "data": [], "has_more": False, "first_id": "", "last_id": ""}
    with scripted_server(Reply.json(RESPONSE), Reply.json(page)) as (url, script):
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/")
        with ResponsesClient(default_headers={"X-Team": "a", "X-Drop": "1"}, default_query={"v": "1"}) as client:
            client.responses.create(
                model="gpt-4.1",
                input="hi",
                temperature=None,
                extra_headers={"X-Extra": "yes", "X-Drop": None, "Idempotency-Key": "mine"},
                extra_query={"q": "2"},
                extra_body={"custom": {"deep": True}, "model": "override"},
            )
            items = client.responses.input_items.list("resp 1/x", include=["message.output_text.logprobs"], limit=5)
            assert list(items) == []
    create, listing = script.seen
    assert create.path == "/v1/responses" and create.query == "v=1&q=2"
    assert create.headers["authorization"] == "Bearer sk-from-env"
    assert create.headers["x-team"] == "a" and create.headers["x-extra"] == "yes" and "x-drop" not in create.headers
    assert create.headers["idempotency-key"] == "mine"
    assert create.json() == {"model": "override", "input": "hi", "custom": {"deep": True}}
    assert listing.method == "GET" and listing.path == "/v1/responses/resp%201%2Fx/input_items"
    assert listing.query == "v=1&limit=5&include=message.output_text.logprobs"


def test_models_are_accepted_as_request_values() -> None:
    with served(Reply.json(RESPONSE)) as (client, script):
        reasoning = models.Reasoning(effort="low")
        client.responses.create(model="o3", input=[{"role": "user", "content": "hi"}], reasoning=reasoning)
    assert script.seen[0].json()["reasoning"] == {"effort": "low"}


def test_a_2xx_body_that_is_not_the_model_is_a_validation_error() -> None:
    from respkit.generated import APIResponseValidationError

    page = Reply(body=b"<html>ok</html>", content_type="text/html")
    with served(page) as (client, _), pytest.raises(APIResponseValidationError) as caught:
        client.responses.retrieve("resp_1")
    assert caught.value.body == "<html>ok</html>" and caught.value.status_code == 200


def test_async_retry_and_reset() -> None:
    frames = _events(STREAM)
    limited = Reply.json(envelope("slow", "rate_limit_error"), 429, **{"retry-after": "0"})

    async def main(url: str) -> list[str]:
        async with AsyncResponsesClient(base_url=url, api_key=KEY) as client:
            assert output_text(await client.responses.create(model="gpt-4.1", input="hi")) == TEXT
            stream = await client.responses.create(model="gpt-4.1", input="hi", stream=True)
            seen: list[str] = []
            with pytest.raises(APIConnectionError):
                async for event in stream:
                    seen.append(str(event.type))
            return seen

    with scripted_server(limited, Reply.json(RESPONSE), Reply.sse(*frames[:3], reset=True)) as (url, script):
        seen = asyncio.run(main(url))
    assert len(seen) == 3 and len(script.seen) == 3
    assert script.seen[0].headers["idempotency-key"] == script.seen[1].headers["idempotency-key"]


def test_retry_delays_from_headers_are_capped_and_backoff_is_jittered() -> None:
    import time
    from email.utils import formatdate

    from respkit.generated._transport import MAX_RETRY_AFTER, MAX_RETRY_DELAY, backoff, retry_after

    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after": "86400"}) == MAX_RETRY_AFTER
    in_30s = retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert in_30s is not None and 25 <= in_30s <= 30
    assert retry_after({"retry-after": "soon"}) is None and retry_after({"retry-after": "-1"}) is None
    assert retry_after({}) is None
    first = [backoff(0) for _ in range(50)]
    assert all(0.375 <= d <= 0.5 for d in first) and len(set(first)) > 1
    assert all(MAX_RETRY_DELAY * 0.75 <= backoff(10) <= MAX_RETRY_DELAY for _ in range(20))


def test_plain_http_clients_skip_the_ca_bundle_and_https_clients_verify() -> None:
    import ssl

    from respkit.generated._transport import tls_for

    assert tls_for("https://api.openai.com/v1") is True
    context = tls_for("http://127.0.0.1:8000/v1")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
