"""The official `openai` package against the reference server (default mode), over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

from respkit.conformance.server import run_server
from tests.test_server_spec import BEHAVIOURS

WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "strict": True,
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
        "required": ["city", "days"],
        "additionalProperties": False,
    },
}


def test_create_answers_with_echo_text(client: OpenAI) -> None:
    response = client.responses.create(model="gpt-4.1", input="Hello there")
    assert response.status == "completed"
    assert response.output_text == "You said: Hello there"
    assert response.usage is not None and response.usage.total_tokens == 2 + 4


def test_stream_helper_final_response_equals_retrieved(client: OpenAI) -> None:
    with client.responses.stream(model="gpt-4.1", input="Stream me") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "You said: Stream me"
    retrieved = client.responses.retrieve(final.id)
    assert (retrieved.status, retrieved.output_text, retrieved.usage) == (final.status, final.output_text, final.usage)
    assert [getattr(i, "id", None) for i in retrieved.output] == [getattr(i, "id", None) for i in final.output]


def test_function_call_round_trip(client: OpenAI) -> None:
    with client.responses.stream(model="gpt-4.1", input="Weather in Paris?", tools=[WEATHER_TOOL]) as stream:
        arguments = "".join(e.delta for e in stream if e.type == "response.function_call_arguments.delta")
        first = stream.get_final_response()
    call = first.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.arguments == arguments == '{"city":"Weather in Paris?","days":1}'
    second = client.responses.create(
        model="gpt-4.1",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}],
        tools=[WEATHER_TOOL],
    )
    assert second.output_text == "The function get_weather returned: sunny, 21 C"


@pytest.mark.parametrize("name", [name for name in BEHAVIOURS if name != "failure"])  # raises: test_server_deployed
def test_stream_helper_reads_every_behaviour(client: OpenAI, name: str) -> None:
    with client.responses.stream(**BEHAVIOURS[name]) as stream:
        last = [event.type for event in stream][-1]
        if last == "response.completed":
            assert stream.get_final_response().status == "completed"
    assert last in ("response.completed", "response.incomplete", "response.failed")


class Street(BaseModel):
    name: str
    number: int


class City(BaseModel):
    name: str
    streets: list[Street]
    capital: bool | None


def test_structured_output_parses_into_the_model(client: OpenAI) -> None:
    parsed = client.responses.parse(model="gpt-4.1", input="Lyon", text_format=City).output_parsed
    assert parsed == City(name="Lyon", streets=[Street(name="Lyon", number=0)], capital=True)


def test_previous_response_id_continues_the_conversation(client: OpenAI) -> None:
    first = client.responses.create(model="gpt-4.1", input="My name is Ada")
    second = client.responses.create(model="gpt-4.1", input="What is my name?", previous_response_id=first.id)
    assert second.output_text == "You said: What is my name? (turn 2; you first said: My name is Ada)"
    assert second.previous_response_id == first.id


def test_retrieve_then_delete(client: OpenAI) -> None:
    created = client.responses.create(model="gpt-4.1", input="keep me")
    assert client.responses.retrieve(created.id).output_text == "You said: keep me"
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_store_false_cannot_be_retrieved(client: OpenAI) -> None:
    created = client.responses.create(model="gpt-4.1", input="forget me", store=False)
    assert created.status == "completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_input_items_paginate(client: OpenAI) -> None:
    messages = [{"role": "user", "content": f"message {i}"} for i in range(5)]
    created = client.responses.create(model="gpt-4.1", input=messages)  # type: ignore[arg-type]
    first_page = client.responses.input_items.list(created.id, limit=2, order="asc")
    assert len(first_page.data) == 2 and first_page.has_more
    every = list(client.responses.input_items.list(created.id, limit=2, order="asc"))
    texts = [item.content[0].text for item in every]  # type: ignore[union-attr,index]
    assert texts == [f"message {i}" for i in range(5)]
    newest_first = list(client.responses.input_items.list(created.id, limit=3))
    assert [i.id for i in newest_first] == [i.id for i in reversed(every)]


def test_cancel_background_response(client: OpenAI) -> None:
    created = client.responses.create(model="gpt-4.1", input="[hold] take your time", background=True)
    assert created.status == "queued"
    cancelled = client.responses.cancel(created.id)
    assert cancelled.status == "cancelled"
    assert client.responses.retrieve(created.id).status == "cancelled"


def test_background_response_completes(client: OpenAI) -> None:
    created = client.responses.create(model="gpt-4.1", input="in the background", background=True)
    assert created.status == "queued"
    seen: set[str | None] = {created.status}
    for _ in range(500):
        current = client.responses.retrieve(created.id)
        seen.add(current.status)
        if current.status == "completed":
            break
        time.sleep(0.01)
    assert current.status == "completed" and current.output_text == "You said: in the background"
    assert seen <= {"queued", "in_progress", "completed"}


def test_bad_request_names_the_field(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4.1", input="x", temperature=5)
    assert caught.value.param == "temperature"
    assert caught.value.type == "invalid_request_error"


def test_unknown_id_is_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve("resp_does_not_exist")
    assert caught.value.param == "response_id"


def test_unknown_key_is_an_authentication_error() -> None:
    with run_server(api_keys={"sk-right"}) as url:
        with (
            OpenAI(base_url=url, api_key="sk-wrong-secret", max_retries=0) as client,
            pytest.raises(openai.AuthenticationError) as caught,
        ):
            client.responses.create(model="gpt-4.1", input="x")
        with OpenAI(base_url=url, api_key="sk-right", max_retries=0) as client:
            assert client.responses.create(model="gpt-4.1", input="x").status == "completed"
    assert caught.value.code == "invalid_api_key"
    assert "sk-wrong-secret" not in caught.value.response.text


def test_rate_limit_is_a_rate_limit_error() -> None:
    with run_server(rate_limit=2) as url, OpenAI(base_url=url, api_key="sk-test", max_retries=0) as client:
        client.responses.create(model="gpt-4.1", input="one")
        client.responses.create(model="gpt-4.1", input="two")
        with pytest.raises(openai.RateLimitError) as caught:
            client.responses.create(model="gpt-4.1", input="three")
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert caught.value.code == "rate_limit_exceeded"


def test_included_logprobs_and_encrypted_reasoning_parse(client: OpenAI) -> None:
    response = client.responses.create(
        model="gpt-4.1", input="Hello there", include=["message.output_text.logprobs"], top_logprobs=2
    )
    message = response.output[0]
    assert message.type == "message" and message.content[0].type == "output_text"
    logprobs = message.content[0].logprobs or []
    assert "".join(lp.token for lp in logprobs) == response.output_text
    assert all(len(lp.top_logprobs) == 2 for lp in logprobs)
    reasoned = client.responses.create(model="o4-mini", input="Think", include=["reasoning.encrypted_content"])
    reasoning = reasoned.output[0]
    assert reasoning.type == "reasoning" and (reasoning.encrypted_content or "").startswith("gAAAAAB")


def test_every_answer_carries_a_request_id_the_sdk_surfaces(client: OpenAI) -> None:
    import re

    import openai

    first = client.responses.create(model="gpt-4.1", input="Hello")
    second = client.responses.create(model="gpt-4.1", input="Hello")
    ids = [first._request_id, second._request_id]
    assert all(re.fullmatch(r"req_[0-9a-f]{32}", str(i)) for i in ids) and ids[0] != ids[1]
    with client.responses.with_streaming_response.create(model="gpt-4.1", input="Hi", stream=True) as streamed:
        assert re.fullmatch(r"req_[0-9a-f]{32}", streamed.headers.get("x-request-id", ""))
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.retrieve("resp_unknown")
    assert str(info.value.request_id).startswith("req_")
