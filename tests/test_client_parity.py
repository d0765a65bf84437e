"""The generated client as a drop-in for the openai SDK's Responses surface.

Each usage below is code from the openai SDK's own documentation of the Responses API (README, helpers:
text, streaming, the stream helper, structured outputs with `parse`, function tools, background and cancel,
input items paging, errors), written once. It runs against the reference server over real HTTP twice: with
`openai` (`from openai import OpenAI`) and with the generated package (`from generated import
ResponsesClient as OpenAI`), the only difference being that import; both runs must observe the same results.
Sync and async alike. Ids and timestamps differ between two runs of any client, so they are masked.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from respkit import generated
from respkit.conformance.server import run_server


@dataclass(frozen=True)
class Sdk:
    """What a user imports: the module (errors, tool helpers) and its two clients."""

    module: ModuleType
    OpenAI: Any
    AsyncOpenAI: Any


SDKS = {
    "openai": Sdk(openai, openai.OpenAI, openai.AsyncOpenAI),
    "respkit": Sdk(generated, generated.ResponsesClient, generated.AsyncResponsesClient),
}
KEY = "sk-parity-test-key"
_ID = re.compile(r"^[a-z]+_[0-9a-f]{16,}$")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with run_server() as base_url:
        yield base_url


#: what the SDK's dumps carry beyond what the server sent (fields there, plain attributes here: see the
#: README); each usage compares them through the attributes themselves
SDK_ONLY_DUMPED = frozenset({"parsed", "parsed_arguments"})


def masked(value: Any) -> Any:
    """A JSON value with what differs between any two runs masked: ids, and `*_at` timestamps."""
    if isinstance(value, dict):
        return {
            k: "<time>" if k.endswith("_at") and v is not None else masked(v)
            for k, v in value.items()
            if k not in SDK_ONLY_DUMPED
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return "<id>" if isinstance(value, str) and _ID.match(value) else value


def dump(model: Any) -> Any:
    """What a client read, as the JSON it says it read."""
    return masked(model.model_dump(mode="json", by_alias=True, exclude_unset=True))


def both(usage: Callable[[Sdk, str], Any], url: str) -> Any:
    """Run a sync usage with each SDK; the observations must be equal. Returns the one observation."""
    seen = {name: usage(sdk, url) for name, sdk in SDKS.items()}
    assert seen["respkit"] == seen["openai"]
    return seen["openai"]


def both_async(usage: Callable[[Sdk, str], Coroutine[Any, Any, Any]], url: str) -> Any:
    """`both` for an async usage."""
    seen = {name: asyncio.run(usage(sdk, url)) for name, sdk in SDKS.items()}
    assert seen["respkit"] == seen["openai"]
    return seen["openai"]


class CalendarEvent(BaseModel):
    name: str
    date: str
    participants: list[str]


class Step(BaseModel):
    explanation: str
    output: str | None = None


class Solution(BaseModel):
    """A worked answer: nested models, an optional member, a default."""

    steps: list[Step]
    final: Step
    confidence: float = 0.5


class GetWeather(BaseModel):
    """Get the current weather in a city."""

    city: str
    days: int


EXTRACT = [
    {"role": "system", "content": "Extract the event information."},
    {"role": "user", "content": "Alice and Bob are going to a science fair on Friday."},
]
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "strict": True,
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


# --- text --------------------------------------------------------------------------------------------


def _shape(request_id: Any) -> Any:
    """A request id as both clients must show it: each answer has its own, so compare their form."""
    import re

    return "req_<32 hex>" if re.fullmatch(r"req_[0-9a-f]{32}", str(request_id)) else request_id


def text(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        response = client.responses.create(
            model="gpt-4.1",
            instructions="You are a coding assistant that talks like a pirate.",
            input="How do I check if a Python object is an instance of a class?",
        )
        return {"output_text": response.output_text, "request_id": _shape(response._request_id), "body": dump(response)}


async def text_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        response = await client.responses.create(
            model="gpt-4.1", input="Explain disestablishmentarianism to a smart five year old."
        )
        return {"output_text": response.output_text, "body": dump(response)}


def test_text(url: str) -> None:
    seen = both(text, url)
    assert seen["output_text"] == "You said: How do I check if a Python object is an instance of a class?"
    assert seen["request_id"] == "req_<32 hex>"  # each answer's own x-request-id, surfaced by both clients


def test_text_async(url: str) -> None:
    assert both_async(text_async, url)["output_text"].startswith("You said: Explain")


# --- streaming ---------------------------------------------------------------------------------------


def streaming(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        stream = client.responses.create(
            model="gpt-4.1", input="Write a one-sentence bedtime story about a unicorn.", stream=True
        )
        events = [event for event in stream]
        return [dump(event) for event in events]


async def streaming_async(sdk: Sdk, url: str) -> Any:
    client = sdk.AsyncOpenAI(base_url=url, api_key=KEY)
    stream = await client.responses.create(
        model="o4-mini", input="Write a one-sentence bedtime story about a unicorn.", stream=True
    )
    events = [event async for event in stream]
    await client.close()
    return [dump(event) for event in events]


def test_streaming(url: str) -> None:
    events = both(streaming, url)
    assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"


def test_streaming_async(url: str) -> None:
    events = both_async(streaming_async, url)
    assert "response.reasoning_summary_text.delta" in [e["type"] for e in events]


# --- the stream helper -------------------------------------------------------------------------------


def stream_helper(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        deltas, snapshots, types = [], [], []
        with client.responses.stream(model="gpt-4.1", input="Tell me a story in five words.") as stream:
            for event in stream:
                types.append(event.type)
                if event.type == "response.output_text.delta":
                    deltas.append(event.delta)
                    snapshots.append(event.snapshot)
            final = stream.get_final_response()
        return {
            "types": types,
            "deltas": deltas,
            "snapshots": snapshots,
            "text": final.output_text,
            "final": dump(final),
        }


async def stream_helper_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        deltas = []
        async with client.responses.stream(model="gpt-4.1", input="Tell me a story in five words.") as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    deltas.append(event.delta)
            final = await stream.get_final_response()
        return {"deltas": deltas, "text": final.output_text, "final": dump(final)}


def stream_resumed(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        created = client.responses.create(model="gpt-4.1", input="Stream this one again.", background=True)
        while created.status in ("queued", "in_progress"):
            time.sleep(0.05)
            created = client.responses.retrieve(created.id)
        with client.responses.stream(response_id=created.id, starting_after=3) as stream:
            numbers = [event.sequence_number for event in stream]
            final = stream.get_final_response()
        return {"numbers": numbers, "text": final.output_text}


def test_stream_helper(url: str) -> None:
    seen = both(stream_helper, url)
    assert seen["snapshots"][-1] == seen["text"] == "You said: Tell me a story in five words."
    assert "".join(seen["deltas"]) == seen["text"]


def test_stream_helper_async(url: str) -> None:
    assert both_async(stream_helper_async, url)["text"] == "You said: Tell me a story in five words."


def test_stream_helper_resumes_a_stored_response(url: str) -> None:
    seen = both(stream_resumed, url)
    assert seen["numbers"] and min(seen["numbers"]) == 4 and seen["text"] == "You said: Stream this one again."


# --- structured outputs: parse -----------------------------------------------------------------------


def parse(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        response = client.responses.parse(model="gpt-4o-2024-08-06", input=EXTRACT, text_format=CalendarEvent)
        event = response.output_parsed
        assert isinstance(event, CalendarEvent)
        nested = client.responses.parse(model="gpt-4.1", input="Solve 2 + 2.", text_format=Solution)
        return {
            "event": event.model_dump(),
            "text": response.output_text,
            "format": dump(response.text),
            "nested": nested.output_parsed.model_dump(),
            "nested_format": dump(nested.text),  # the strict schema as the server received it
        }


async def parse_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        response = await client.responses.parse(model="gpt-4o-2024-08-06", input=EXTRACT, text_format=CalendarEvent)
        return {"event": response.output_parsed.model_dump(), "format": dump(response.text)}


def parse_streamed(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        done = []
        with client.responses.stream(model="gpt-4o-2024-08-06", input=EXTRACT, text_format=CalendarEvent) as stream:
            for event in stream:
                if event.type == "response.output_text.done":
                    done.append(event.parsed.model_dump())
            final = stream.get_final_response()
        return {"done": done, "event": final.output_parsed.model_dump()}


async def parse_streamed_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        stream_manager = client.responses.stream(model="gpt-4o-2024-08-06", input=EXTRACT, text_format=CalendarEvent)
        async with stream_manager as stream:
            final = await stream.get_final_response()
        return final.output_parsed.model_dump()


def parse_tool(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        response = client.responses.parse(
            model="gpt-4.1",
            input="What is the weather in Paris?",
            tools=[sdk.module.pydantic_function_tool(GetWeather)],
        )
        call = response.output[0]
        assert isinstance(call.parsed_arguments, GetWeather)
        return {"arguments": call.parsed_arguments.model_dump(), "call": dump(call), "tools": dump(response)["tools"]}


async def parse_tool_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        response = await client.responses.parse(model="gpt-4.1", input="Weather in Oslo?", tools=[WEATHER_TOOL])
        return {"arguments": response.output[0].parsed_arguments, "call": dump(response.output[0])}


def test_parse(url: str) -> None:
    seen = both(parse, url)
    assert seen["event"]["name"] == "Alice and Bob are going to a science fair on Friday."
    assert seen["format"]["format"]["strict"] is True


def test_parse_async(url: str) -> None:
    assert both_async(parse_async, url)["event"]["participants"]


def test_parse_streamed(url: str) -> None:
    seen = both(parse_streamed, url)
    assert seen["done"] == [seen["event"]]


def test_parse_streamed_async(url: str) -> None:
    assert both_async(parse_streamed_async, url)["date"]


def test_parse_with_a_strict_tool_from_a_model(url: str) -> None:
    seen = both(parse_tool, url)
    assert seen["arguments"] == {"city": "What is the weather in Paris?", "days": 0}
    assert seen["tools"][0]["strict"] is True and seen["tools"][0]["name"] == "GetWeather"


def test_parse_with_a_strict_tool_mapping_async(url: str) -> None:
    assert both_async(parse_tool_async, url)["arguments"] == {"city": "Weather in Oslo?"}


# --- function tools: the round trip ------------------------------------------------------------------


def tool_round_trip(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        input_list: list[Any] = [{"role": "user", "content": "What is the weather like in Paris today?"}]
        response = client.responses.create(model="gpt-4.1", tools=[WEATHER_TOOL], input=input_list)
        input_list += response.output
        for item in response.output:
            if item.type == "function_call":
                input_list.append({"type": "function_call_output", "call_id": item.call_id, "output": "sunny, 21 C"})
        answer = client.responses.create(model="gpt-4.1", instructions="Answer.", input=input_list)
        chained = client.responses.create(
            model="gpt-4.1",
            previous_response_id=response.id,
            input=[{"type": "function_call_output", "call_id": response.output[0].call_id, "output": "rain"}],
        )
        return {"call": dump(response.output[0]), "answer": answer.output_text, "chained": chained.output_text}


async def tool_round_trip_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        input_list: list[Any] = [{"role": "user", "content": "Weather in Rome?"}]
        response = await client.responses.create(model="gpt-4.1", tools=[WEATHER_TOOL], input=input_list)
        call = response.output[0]
        input_list += [call, {"type": "function_call_output", "call_id": call.call_id, "output": "hot"}]
        answer = await client.responses.create(model="gpt-4.1", input=input_list)
        return {"call": dump(call), "answer": answer.output_text}


def test_tool_round_trip(url: str) -> None:
    seen = both(tool_round_trip, url)
    assert seen["answer"] == "The function get_weather returned: sunny, 21 C"
    assert seen["chained"] == "The function get_weather returned: rain"


def test_tool_round_trip_async(url: str) -> None:
    assert both_async(tool_round_trip_async, url)["answer"] == "The function get_weather returned: hot"


# --- background and cancel ---------------------------------------------------------------------------


def background(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        response = client.responses.create(model="gpt-4.1", input="Write a long essay.", background=True)
        statuses = [response.status]
        while response.status in {"queued", "in_progress"}:
            time.sleep(0.05)
            response = client.responses.retrieve(response.id)
            statuses.append(response.status)
        held = client.responses.create(model="gpt-4.1", input="[hold] wait for me", background=True)
        cancelled = client.responses.cancel(held.id)
        deleted = client.responses.delete(response.id)
        return {
            "first": statuses[0],
            "last": statuses[-1],
            "text": response.output_text,
            "cancelled": dump(cancelled),
            "deleted": deleted,
        }


async def background_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        held = await client.responses.create(model="gpt-4.1", input="[hold] async", background=True)
        cancelled = await client.responses.cancel(held.id)
        again = await client.responses.retrieve(held.id)
        return {"cancelled": cancelled.status, "again": dump(again)}


def test_background_and_cancel(url: str) -> None:
    seen = both(background, url)
    assert (seen["first"], seen["last"], seen["cancelled"]["status"]) == ("queued", "completed", "cancelled")
    assert seen["deleted"] is None


def test_background_and_cancel_async(url: str) -> None:
    assert both_async(background_async, url)["cancelled"] == "cancelled"


# --- input items: paging -----------------------------------------------------------------------------

MESSAGES = [{"role": "user", "content": f"message {i}"} for i in range(5)]


def paging(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        response = client.responses.create(model="gpt-4.1", input=MESSAGES)
        every = [item.content[0].text for item in client.responses.input_items.list(response.id, limit=2)]
        first_page = client.responses.input_items.list(response.id, limit=2, order="asc")
        pages = [[item.content[0].text for item in first_page.data]]
        page = first_page
        while page.has_next_page():
            page = page.get_next_page()
            pages.append([item.content[0].text for item in page.data])
        return {"every": every, "pages": pages, "has_more": first_page.has_more, "last_id": masked(first_page.last_id)}


async def paging_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY) as client:
        response = await client.responses.create(model="gpt-4.1", input=MESSAGES)
        every = [item.content[0].text async for item in client.responses.input_items.list(response.id, limit=2)]
        first_page = await client.responses.input_items.list(response.id, limit=2)
        texts = [item.content[0].text for item in first_page.data]
        assert first_page.has_next_page()
        next_page = await first_page.get_next_page()
        return {"every": every, "first": texts, "next": [i.content[0].text for i in next_page.data]}


def test_input_items_paging(url: str) -> None:
    seen = both(paging, url)
    assert seen["every"] == [f"message {i}" for i in (4, 3, 2, 1, 0)]
    assert seen["pages"] == [["message 0", "message 1"], ["message 2", "message 3"], ["message 4"]]


def test_input_items_paging_async(url: str) -> None:
    seen = both_async(paging_async, url)
    assert len(seen["every"]) == 5 and seen["first"] == ["message 4", "message 3"]


# --- errors and the raw response ---------------------------------------------------------------------


def caught(exc: Any, message: str) -> Any:
    """What code handling an API error reads: its class, status, envelope fields and request id (the message
    is the server's in both; the SDK prefixes it with the status, see the README)."""
    assert message in exc.message and message in str(exc)
    fields = (exc.status_code, exc.type, exc.code, exc.param, _shape(exc.request_id))
    return [type(exc).__name__, *fields]


def errors(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY, max_retries=0) as client:
        seen = []
        try:
            client.responses.retrieve("resp_missing")
        except sdk.module.NotFoundError as exc:
            seen.append(caught(exc, "Response with id 'resp_missing' not found."))
        try:
            client.responses.create(input="no model")
        except sdk.module.BadRequestError as exc:
            seen.append(caught(exc, "Missing required parameter: 'model'."))
    with run_server(api_keys={"sk-good"}) as locked, sdk.OpenAI(base_url=locked, api_key="sk-wrong") as wrong:
        try:
            wrong.responses.create(model="gpt-4.1", input="x")
        except sdk.module.APIStatusError as exc:
            seen.append(caught(exc, "Incorrect API key provided"))
    return seen


async def errors_async(sdk: Sdk, url: str) -> Any:
    async with sdk.AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0) as client:
        try:
            await client.responses.cancel("resp_missing")
        except sdk.module.APIStatusError as exc:
            return caught(exc, "resp_missing")
    return None


def raw_response(sdk: Sdk, url: str) -> Any:
    with sdk.OpenAI(base_url=url, api_key=KEY) as client:
        raw = client.responses.with_raw_response.create(model="gpt-4.1", input="Say this is a test")
        response = raw.parse()
        return {"status": raw.status_code, "type": raw.headers["content-type"], "text": response.output_text}


def test_errors(url: str) -> None:
    seen = both(errors, url)
    assert [entry[:2] for entry in seen] == [
        ["NotFoundError", 404],
        ["BadRequestError", 400],
        ["AuthenticationError", 401],
    ]


def test_errors_async(url: str) -> None:
    assert both_async(errors_async, url)[:2] == ["NotFoundError", 404]


def test_raw_response(url: str) -> None:
    assert both(raw_response, url)["text"] == "You said: Say this is a test"
