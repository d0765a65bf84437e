"""The reference server behaves as OpenAI does as deployed, where OpenAI and the letter of its spec part ways,
seen through the official `openai` SDK over real HTTP (the evidence for each is in the README's reference
server section and in the server's code comments)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from respkit.conformance.served_models import MODEL_FAMILIES
from respkit.conformance.server.bundle import validator
from respkit.conformance.server.selfcheck import errata_needed, server_errata, spec_error
from tests._client_server import Reply, scripted_server
from tests.paths import CORPUS

TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "strict": True,
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
NULLABLE = next(why for why in server_errata() if "`null`" in why)
NESTED_ERROR = next(why for why in server_errata() if why != NULLABLE)


def refused(call: Any, **kwargs: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        call(**kwargs)
    assert caught.value.status_code == 400 and caught.value.type == "invalid_request_error"
    return caught.value


def said(error: openai.APIStatusError) -> str:
    """The server's message (the SDK's `message` prefixes `Error code: 400 - `)."""
    body: Any = error.body
    return str(body["message"])


# -- unfinished responses: every member present, null when not set -------------------------------------


def test_an_unfinished_response_carries_usage_and_user_as_null(client: OpenAI) -> None:
    raw = client.responses.with_raw_response.create(model="gpt-4.1", input="[hold] wait", background=True)
    queued = raw.http_response.json()
    assert queued["status"] == "queued" and queued["usage"] is None and queued["user"] is None
    assert (queued["presence_penalty"], queued["frequency_penalty"]) == (0.0, 0.0)
    assert list(queued)[:4] == ["id", "object", "created_at", "status"] and list(queued)[-1] == "metadata"
    # the published spec refuses the nulls of `usage` and `user`, and nothing else: the one erratum that says
    # OpenAI sends them explains it
    assert errata_needed(queued, "Response") == {NULLABLE}
    assert validator("Response").is_valid({k: v for k, v in queued.items() if k not in ("usage", "user")})
    cancelled = client.responses.cancel(queued["id"])
    assert cancelled.status == "cancelled" and cancelled.usage is None and cancelled.user is None


def test_usage_arrives_when_the_response_ends_and_user_echoes_the_request(client: OpenAI) -> None:
    with client.responses.stream(model="gpt-4.1", input="Hi", user="user-7") as stream:
        opening = [e.response for e in stream if e.type in ("response.created", "response.in_progress")]
        final = stream.get_final_response()
    assert [(r.usage, r.user) for r in opening] == [(None, "user-7"), (None, "user-7")]
    assert final.usage is not None and final.usage.output_tokens > 0 and final.user == "user-7"


# -- the stream `error` event ----------------------------------------------------------------------------


def _read_all(client: OpenAI) -> list[str]:
    return [event.type for event in client.responses.create(model="gpt-4.1", input="x", stream=True)]


def test_the_error_event_raises_in_the_sdk_as_openais_own_does(client: OpenAI) -> None:
    with pytest.raises(openai.APIError) as ours:
        list(client.responses.create(model="gpt-4.1", input="[fail] now", stream=True))
    with pytest.raises(openai.APIError) as helper, client.responses.stream(model="gpt-4.1", input="[fail]") as s:
        list(s)
    recorded = (CORPUS / "openai" / "stream_error_event_then_failed.sse").read_bytes()
    with (
        scripted_server(Reply.sse(recorded)) as (url, _),
        OpenAI(base_url=url, api_key="k", max_retries=0) as real,
        pytest.raises(openai.APIError) as theirs,
    ):
        _read_all(real)
    for caught in (ours.value, helper.value, theirs.value):
        assert type(caught) is openai.APIError and caught.code and caught.type == caught.code
        assert caught.param is None and caught.message
    assert (ours.value.code, theirs.value.code) == ("server_error", "insufficient_quota")


def test_the_error_event_needs_only_its_erratum(base_url: str) -> None:
    body = {"model": "gpt-4.1", "input": "[fail]", "stream": True}
    with httpx.Client(headers={"Authorization": "Bearer k"}, timeout=30) as http:
        text = http.post(f"{base_url}/responses", json=body).text
    import json

    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    (error,) = [e for e in events if e["type"] == "error"]
    assert set(error) == {"type", "sequence_number", "error"}
    assert set(error["error"]) == {"type", "code", "message", "param"}
    assert errata_needed(error, "ResponseErrorEvent") == {NESTED_ERROR}
    assert events[-1]["type"] == "response.failed" and events[-1]["response"]["usage"] is None


# -- tool calls and their outputs --------------------------------------------------------------------------


def test_an_output_for_no_call_is_refused(client: OpenAI) -> None:
    orphan = [{"type": "function_call_output", "call_id": "call_nowhere", "output": "1"}]
    error = refused(client.responses.create, model="gpt-4.1", input=orphan)
    assert (error.param, error.code) == ("input", None)
    assert said(error) == "No tool call found for function call output with call_id call_nowhere."
    custom = [{"type": "custom_tool_call_output", "call_id": "call_gone", "output": "1"}]
    error = refused(client.responses.create, model="gpt-5", input=custom)
    assert said(error) == "No tool call found for custom tool call output with call_id call_gone."


def test_a_continuation_that_leaves_a_call_unanswered_is_refused(client: OpenAI) -> None:
    first = client.responses.create(model="gpt-4.1", input="Weather in Oslo?", tools=[TOOL])
    call = first.output[0]
    assert call.type == "function_call"
    error = refused(client.responses.create, model="gpt-4.1", input="and then?", previous_response_id=first.id)
    assert (error.param, error.code, said(error)) == (
        "input",
        None,
        f"No tool output found for function call {call.call_id}.",
    )
    answer = [{"type": "function_call_output", "call_id": call.call_id, "output": "cold"}]
    answered = client.responses.create(model="gpt-4.1", input=answer, previous_response_id=first.id, tools=[TOOL])
    assert answered.output_text == "The function get_weather returned: cold"


def test_a_whole_conversation_sent_back_pairs_too(client: OpenAI) -> None:
    call = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Rome"}'}
    sent = [{"role": "user", "content": "Rome?"}, call]
    assert "call_1" in refused(client.responses.create, model="gpt-4.1", input=sent).message
    answered = [*sent, {"type": "function_call_output", "call_id": "call_1", "output": "warm"}]
    assert client.responses.create(model="gpt-4.1", input=answered).status == "completed"


# -- assistant history ------------------------------------------------------------------------------------


def test_assistant_history_takes_output_text_and_refusal_parts(client: OpenAI) -> None:
    history: Any = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Hi, what next?"}]},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "Not that."}]},
        {"role": "user", "content": "Bye"},
    ]
    created = client.responses.create(model="gpt-4.1", input=history)
    assert created.status == "completed"
    items = client.responses.input_items.list(created.id, order="asc").data
    stored = items[1].content[0]  # type: ignore[union-attr]
    assert (stored.type, stored.text, stored.annotations) == ("output_text", "Hi, what next?", [])  # type: ignore[union-attr]


def test_assistant_history_with_input_parts_is_refused(client: OpenAI) -> None:
    history: Any = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": [{"type": "input_text", "text": "Hi"}]},
    ]
    error = refused(client.responses.create, model="gpt-4.1", input=history)
    assert (error.param, error.code) == ("input[1].content[0]", "invalid_value")
    assert said(error) == "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'."


# -- what the request readers may not loosen, formats, parameters, models ------------------------------------


def test_a_code_interpreter_tool_needs_its_container(client: OpenAI, base_url: str) -> None:
    tool: Any = {"type": "code_interpreter"}
    error = refused(client.responses.create, model="gpt-4.1", input="x", tools=[tool])
    assert (error.param, error.code) == ("tools[0].container", "missing_required_parameter")
    assert said(error) == "Missing required parameter: 'tools[0].container'."
    with httpx.Client(headers={"Authorization": "Bearer k"}, timeout=30) as http:
        body = {"model": "gpt-4.1", "input": "x", "tools": [{**tool, "container": {"type": "auto"}}]}
        echoed = http.post(f"{base_url}/responses", json=body).json()
    assert spec_error(echoed, "Response") is None, spec_error(echoed, "Response")


@pytest.mark.parametrize(
    ("item", "param"),
    [
        ({"role": "user", "content": [{"type": "input_image", "image_url": ""}]}, "input[0].content[0].image_url"),
        ({"role": "user", "content": [{"type": "input_file", "file_url": "no url"}]}, "input[0].content[0].file_url"),
    ],
)
def test_a_uri_member_must_be_a_url(client: OpenAI, item: Any, param: str) -> None:
    error = refused(client.responses.create, model="gpt-4.1", input=[item])
    assert (error.param, error.code) == (param, "invalid_value") and "valid URL" in said(error)


def test_an_mcp_server_url_must_be_a_url_and_a_data_url_is_one(client: OpenAI) -> None:
    mcp: Any = {"type": "mcp", "server_label": "docs", "server_url": ""}
    assert refused(client.responses.create, model="gpt-4.1", input="x", tools=[mcp]).param == "tools[0].server_url"
    image: Any = {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}
    assert client.responses.create(model="gpt-4.1", input=[{"role": "user", "content": [image]}]).status == "completed"


def test_an_unknown_parameter_is_refused(client: OpenAI) -> None:
    error = refused(client.responses.create, model="gpt-4.1", input="x", extra_body={"parent_id": "p"})
    assert (error.param, error.code, said(error)) == (
        "parent_id",
        "unknown_parameter",
        "Unknown parameter: 'parent_id'.",
    )


def test_an_unknown_model_is_model_not_found(client: OpenAI) -> None:
    error = refused(client.responses.create, model="invalid-model", input="x")
    assert (error.param, error.code) == ("model", "model_not_found")
    assert said(error) == "The requested model 'invalid-model' does not exist."
    refused(client.responses.input_tokens.count, model="invalid-model", input="x")


@pytest.mark.parametrize("model", [*MODEL_FAMILIES, "gpt-4.1-mini", "gpt-5.5-2026-04-23", "o4-mini-2025-04-16"])
def test_every_documented_model_is_served(client: OpenAI, model: str) -> None:
    assert client.responses.create(model=model, input="x").status == "completed"


def test_serve_help_lists_the_models() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "respkit.conformance", "serve", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert all(family in " ".join(shown.split()) for family in MODEL_FAMILIES) and "model_not_found" in shown


# -- routes, references, previous responses -----------------------------------------------------------------


def test_a_405_allows_every_method_of_the_path(base_url: str) -> None:
    with httpx.Client(headers={"Authorization": "Bearer k"}, timeout=30) as http:
        one = http.put(f"{base_url}/responses/resp_x")
        create = http.put(f"{base_url}/responses")
    assert one.status_code == create.status_code == 405
    assert {"GET", "DELETE"} <= {m.strip() for m in one.headers["allow"].split(",")}
    assert create.headers["allow"] == "POST"


def test_an_item_reference_stands_for_the_stored_item(client: OpenAI) -> None:
    first = client.responses.create(model="gpt-4.1", input="Remember me")
    answer = first.output[0]
    refs: Any = [{"type": "item_reference", "id": answer.id}, {"role": "user", "content": "Again"}]
    second = client.responses.create(model="gpt-4.1", input=refs)
    listed = client.responses.input_items.list(second.id, order="asc").data
    assert listed[0].id == answer.id and listed[0].model_dump() == answer.model_dump()
    user_item = client.responses.input_items.list(first.id).data[0]
    typeless: Any = [{"id": user_item.id}, {"role": "user", "content": "Once more"}]  # `type` may be left out
    third = client.responses.create(model="gpt-4.1", input=typeless)
    assert client.responses.input_items.list(third.id, order="asc").data[0].model_dump() == user_item.model_dump()


def test_an_unknown_item_reference_is_refused(client: OpenAI) -> None:
    error = refused(client.responses.create, model="gpt-4.1", input=[{"type": "item_reference", "id": "msg_gone"}])
    assert (error.param, said(error)) == ("input", "Item with id 'msg_gone' not found.")


def test_an_unknown_previous_response_is_a_400(client: OpenAI) -> None:
    error = refused(client.responses.create, model="gpt-4.1", input="x", previous_response_id="resp_gone")
    assert (error.param, error.code) == ("previous_response_id", "previous_response_not_found")
    assert said(error) == "Previous response with id 'resp_gone' not found."


def test_the_server_self_check_still_fails_what_no_erratum_explains(client: OpenAI) -> None:
    body = client.responses.with_raw_response.create(model="gpt-4.1", input="x", background=True).http_response.json()
    assert spec_error(body, "Response") is None  # `usage: null`, `user: null`: the erratum the server needs
    assert spec_error({**body, "status": "pondering"}, "Response") is not None
    assert spec_error({**body, "output": [{"type": "message"}]}, "Response") is not None
    flat = {"type": "error", "sequence_number": 1, "code": None, "message": 5, "param": None}
    assert spec_error(flat, "ResponseErrorEvent") is not None
