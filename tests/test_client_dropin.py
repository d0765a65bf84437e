"""What a port from the openai SDK meets, each case of issue 12 on its own (the parity test runs the SDK's
documented usage side by side): computed SDK-only properties, request ids, redaction that leaves the server's
words alone, the same error from both final getters of an unfinished stream, events given as sent, what a
wrong body is said to be, `with_options`, strict schemas from models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from pydantic import BaseModel

from respkit.conformance.recordings import HERE as BUNDLED
from respkit.conformance.server import run_server
from respkit.generated import (
    APIResponseValidationError,
    AsyncResponsesClient,
    AuthenticationError,
    IncompleteStreamError,
    NotFoundError,
    ResponsesClient,
    models,
    to_strict_json_schema,
)
from respkit.generator.errors import SpecError
from respkit.generator.sdk_properties import MARKER, add_properties, strip_sdk_properties
from tests._client_server import Reply, Script, scripted_server

RESPONSE = json.loads((BUNDLED / "openai" / "text_input.json").read_text())
STREAM = (BUNDLED / "openai" / "streaming.sse").read_bytes()


@contextmanager
def served(*replies: Reply, key: str = "sk-dropin-1234567890") -> Iterator[tuple[ResponsesClient, Script]]:
    with scripted_server(*replies) as (url, script), ResponsesClient(base_url=url, api_key=key, max_retries=0) as c:
        yield c, script


def _frames(stream: bytes) -> list[bytes]:
    return [frame + b"\n\n" for frame in stream.split(b"\n\n") if frame.strip()]


# --- SDK-only properties are computed, never read --------------------------------------------------


def test_output_text_is_computed_from_the_output_and_is_no_field() -> None:
    response = models.Response.model_validate(RESPONSE)
    assert "output_text" not in models.Response.model_fields
    message = response.output[0]
    assert isinstance(message, models.OutputMessage) and isinstance(message.content[0], models.OutputTextContent)
    assert response.output_text and response.output_text == message.content[0].text
    assert "output_text" not in response.model_dump()


def test_an_output_text_a_server_sends_is_kept_as_sent_and_never_read() -> None:
    response = models.Response.model_validate({**RESPONSE, "output_text": "the server's own"})
    assert response.output_text != "the server's own"
    assert response.model_dump(mode="json", exclude_unset=True)["output_text"] == "the server's own"


SCHEMA_DOC: dict[str, Any] = {
    "components": {
        "schemas": {
            "Thing": {
                "allOf": [
                    {"$ref": "#/components/schemas/Base"},
                    {
                        "type": "object",
                        "required": ["id", "summary"],
                        "properties": {
                            "id": {"type": "string"},
                            "summary": {"anyOf": [{"type": "string", MARKER: ["python"]}, {"type": "null"}]},
                        },
                    },
                ]
            },
            "Base": {"type": "object", "properties": {"output_text": {"type": "string", MARKER: ["python"]}}},
        }
    }
}


def test_every_marked_property_is_taken_out_of_the_models_schemas() -> None:
    document = json.loads(json.dumps(SCHEMA_DOC))
    found = {(p.schema, p.name) for p in strip_sdk_properties(document)}
    assert found == {("Thing", "summary"), ("Base", "output_text")}
    assert document["components"]["schemas"]["Thing"]["allOf"][1]["required"] == ["id"]
    assert document["components"]["schemas"]["Base"]["properties"] == {}


def test_a_marked_property_without_a_template_stops_the_generator() -> None:
    document = json.loads(json.dumps(SCHEMA_DOC))
    found = [p for p in strip_sdk_properties(document) if p.name == "summary"]
    with pytest.raises(SpecError, match=r"templates/properties/summary\.py\.jinja"):
        add_properties("class Thing(_Model):\n    id: str\n", found)


def test_a_marker_outside_a_component_schema_is_refused() -> None:
    document = {"paths": {"/x": {"get": {"parameters": [{"name": "q", "schema": {MARKER: ["python"]}}]}}}}
    with pytest.raises(SpecError, match="outside a component schema"):
        strip_sdk_properties(document)


# --- request ids ---------------------------------------------------------------------------------------


def test_the_request_id_is_on_every_object_read_and_every_error() -> None:
    page = {"object": "list", "data": [], "first_id": "msg_1", "last_id": "msg_1", "has_more": False}
    missing = {"error": {"message": "no such response", "type": "invalid_request_error", "param": None, "code": None}}
    replies = [
        replace(Reply.json(RESPONSE), headers={"x-request-id": "req_create"}),
        replace(Reply.json(RESPONSE), headers={"x-request-id": "req_raw"}),
        replace(Reply.json(page), headers={"x-request-id": "req_page"}),
        replace(Reply.json(missing, 404), headers={"x-request-id": "req_missing"}),
    ]
    with served(*replies) as (client, _):
        created = client.responses.create(model="gpt-4.1", input="hi")
        raw = client.responses.with_raw_response.retrieve("resp_1").parse()
        pager = client.responses.input_items.list("resp_1")
        with pytest.raises(NotFoundError) as caught:
            client.responses.retrieve("resp_2")
    assert (created._request_id, raw._request_id, pager._request_id) == ("req_create", "req_raw", "req_page")
    assert caught.value.request_id == "req_missing"
    assert "_request_id" not in created.model_dump() and created == models.Response.model_validate(RESPONSE)


# --- redaction: the key, as a token, after parsing -------------------------------------------------


@pytest.mark.parametrize("key", ["test", "k", "e", "error", "sk-long-secret-key-123"])
def test_a_short_key_never_mangles_the_message_or_the_envelope(key: str) -> None:
    message = f"Incorrect API key provided: {key}. This is a test; check the error key."
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
    with served(Reply.json(body, 401), key=key) as (client, _), pytest.raises(AuthenticationError) as caught:
        client.responses.create(model="gpt-4.1", input="hi")
    error = caught.value
    expected = message.replace(f": {key}.", ": ***.") if key != "test" else message.replace("test", "***")
    if key == "error":
        expected = message.replace(" error ", " *** ").replace(": error.", ": ***.")
    assert error.message == expected
    assert error.code == "invalid_api_key" and error.type == "invalid_request_error"
    assert set(error.body) == {"error"} and set(error.body["error"]) == {"message", "type", "param", "code"}


def test_a_key_in_a_stream_error_event_is_redacted_there_too() -> None:
    key = "sk-stream-secret-123456"
    event = {"type": "error", "code": "invalid_api_key", "message": f"key {key} revoked", "param": None}
    frame = f"event: error\ndata: {json.dumps(event)}\n\n".encode()
    with served(Reply.sse(frame), key=key) as (client, _):
        stream = client.responses.create(model="gpt-4.1", input="hi", stream=True)
        with pytest.raises(Exception) as caught:
            list(stream)
    assert key not in str(caught.value) and key not in repr(caught.value.event)  # type: ignore[attr-defined]
    assert str(caught.value) == "key *** revoked"


# --- an unfinished stream: both getters raise the same error ---------------------------------------


def test_get_final_text_raises_as_get_final_response_does() -> None:
    frames = [f for f in _frames(STREAM) if b"response.completed" not in f]
    for getter in ("get_final_response", "get_final_text"):
        with served(Reply.sse(*frames)) as (client, _):
            stream = client.responses.create(model="gpt-4.1", input="hi", stream=True)
            with pytest.raises(IncompleteStreamError) as caught:
                getattr(stream, getter)()
        assert isinstance(caught.value, RuntimeError) and caught.value.snapshot is not None


def test_the_async_getters_raise_alike() -> None:
    frames = [f for f in _frames(STREAM) if b"response.completed" not in f]

    async def read(getter: str) -> None:
        with scripted_server(Reply.sse(*frames)) as (url, _):
            async with AsyncResponsesClient(base_url=url, api_key="sk-x", max_retries=0) as client:
                stream = await client.responses.create(model="gpt-4.1", input="hi", stream=True)
                await getattr(stream, getter)()

    for getter in ("get_final_response", "get_final_text"):
        with pytest.raises(IncompleteStreamError):
            asyncio.run(read(getter))


# --- events are given as they were sent ------------------------------------------------------------


def test_a_terminal_event_with_an_empty_output_is_given_as_sent() -> None:
    frames = _frames(STREAM)
    last = json.loads(frames[-1].split(b"data: ", 1)[1])
    last["response"]["output"] = []
    frames[-1] = f"event: response.completed\ndata: {json.dumps(last)}\n\n".encode()
    with served(Reply.sse(*frames)) as (client, _):
        stream = client.responses.create(model="gpt-4.1", input="hi", stream=True)
        events = list(stream)
    assert events[-1].response.output == []  # type: ignore[union-attr]
    assert stream.get_final_response().output and stream.get_final_text()


# --- a body that is not what the operation answers says what it is -----------------------------------


def test_a_chat_completion_where_a_response_was_expected_says_so() -> None:
    with (
        run_server(quirks="chat-completions") as url,
        ResponsesClient(base_url=url, api_key="sk-x", max_retries=0) as client,
        pytest.raises(APIResponseValidationError) as caught,
    ):
        client.responses.create(model="gpt-4.1", input="hi")
    assert "expected object 'response', got object 'chat.completion'" in caught.value.message


def test_a_body_of_the_right_object_names_its_first_invalid_member() -> None:
    invalid = Reply.json({**RESPONSE, "output": "nope"})
    with served(invalid) as (client, _), pytest.raises(APIResponseValidationError, match="not a Response: /output: "):
        client.responses.create(model="gpt-4.1", input="hi")


# --- with_options ----------------------------------------------------------------------------------------


def test_with_options_shares_the_connections_and_changes_only_what_it_names() -> None:
    with served(Reply.json(RESPONSE)) as (client, script):
        other = client.with_options(max_retries=5, default_headers={"X-Trace": "1"})
        other.responses.create(model="gpt-4.1", input="hi")
        other.close()  # shares the connections: closing it leaves them open
        client.responses.create(model="gpt-4.1", input="again")
    assert (other.max_retries, client.max_retries, other.base_url) == (5, 0, client.base_url)
    assert script.seen[0].headers["x-trace"] == "1" and "x-trace" not in script.seen[1].headers


# --- strict schemas from models ----------------------------------------------------------------------------


class Step(BaseModel):
    explanation: str
    output: str | None = None


class Solution(BaseModel):
    """A worked answer."""

    steps: list[Step]
    final: Step
    confidence: float = 0.5


def test_a_strict_schema_closes_every_object_and_requires_every_member() -> None:
    schema = to_strict_json_schema(Solution)
    step = schema["$defs"]["Step"]
    assert schema["additionalProperties"] is False and schema["required"] == ["steps", "final", "confidence"]
    assert step["additionalProperties"] is False and step["required"] == ["explanation", "output"]
    assert "default" not in step["properties"]["output"]
    assert schema["properties"]["final"] == {"$ref": "#/$defs/Step"}


# --- the account headers, as the SDK sends them ----------------------------------------------------------


@pytest.mark.parametrize("given", ["arguments", "environment"])
def test_organization_and_project_are_sent_as_the_sdk_sends_them(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import openai

    options: dict[str, Any] = {"organization": "org-1", "project": "proj-1"} if given == "arguments" else {}
    if given == "environment":
        monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
        monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    seen = {}
    makers: list[tuple[str, Any]] = [("openai", openai.OpenAI), ("respkit", ResponsesClient)]
    for name, make in makers:
        with scripted_server(Reply.json(RESPONSE)) as (url, script), make(base_url=url, api_key="k", **options) as c:
            c.responses.create(model="gpt-4.1", input="hi")
        seen[name] = {k: v for k, v in script.seen[0].headers.items() if k.startswith("openai-")}
    assert seen["respkit"] == seen["openai"] == {"openai-organization": "org-1", "openai-project": "proj-1"}
