"""The generated client end to end against the reference server over real HTTP: every operation, sync and
async, typed streaming with the accumulating helper, typed errors, and the quirk modes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from respkit.conformance.server import run_server
from respkit.generated import (
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    AsyncResponsesClient,
    AuthenticationError,
    BadRequestError,
    IncompleteStreamError,
    NotFoundError,
    RateLimitError,
    ResponsesClient,
    UnknownEvent,
    models,
    output_text,
)
from tests.test_server_spec import BEHAVIOURS

KEY = "sk-respkit-client-test-key"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with run_server() as base_url:
        yield base_url


@pytest.fixture()
def client(url: str) -> Iterator[ResponsesClient]:
    with ResponsesClient(base_url=url, api_key=KEY, max_retries=0) as c:
        yield c


def test_create_returns_a_typed_response(client: ResponsesClient) -> None:
    response = client.responses.create(model="gpt-4.1", input="hello there", metadata={"k": "v"})
    assert isinstance(response, models.Response)
    assert response.status == "completed"
    assert output_text(response) == "You said: hello there"
    assert response.metadata == {"k": "v"}


def test_every_other_operation(client: ResponsesClient) -> None:
    created = client.responses.create(model="gpt-4.1", input="first words")
    assert client.responses.retrieve(created.id).id == created.id
    count = client.responses.input_tokens.count(model="gpt-4.1", input="one two three")
    assert isinstance(count, models.TokenCountsResource) and count.input_tokens == 3
    compacted = client.responses.compact(model="gpt-4.1", input="compact me")
    assert isinstance(compacted, models.CompactResource) and compacted.object == "response.compaction"
    background = client.responses.create(model="gpt-4.1", input="[hold] wait", background=True)
    cancelled = client.responses.cancel(background.id)
    assert cancelled.status == "cancelled"
    client.responses.delete(created.id)
    with pytest.raises(NotFoundError):
        client.responses.retrieve(created.id)


def test_input_items_iterate_across_pages(client: ResponsesClient) -> None:
    words = [{"role": "user", "content": f"message {i}"} for i in range(5)]
    created = client.responses.create(model="gpt-4.1", input=words)
    pager = client.responses.input_items.list(created.id, limit=2, order="asc")
    assert len(pager.page.data) == 2 and pager.page.has_more
    pages = list(pager.iter_pages())
    assert [len(p.data) for p in pages] == [2, 2, 1]
    texts = [item.content[0].text for item in pager]
    assert texts == [f"message {i}" for i in range(5)]


def test_stream_yields_typed_events_and_accumulates(client: ResponsesClient) -> None:
    with client.responses.create(model="o3", input="stream me please", stream=True) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        events = list(stream)
        final = stream.get_final_response()
        text = stream.get_final_text()
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert isinstance(events[0], models.ResponseCreatedEvent)
    assert not any(isinstance(e, UnknownEvent) for e in events)
    assert text == "You said: stream me please"
    assert [item.type for item in final.output] == ["reasoning", "message"]
    summary = final.output[0].summary  # type: ignore[union-attr]
    assert summary and summary[0].text


def test_accumulated_snapshot_matches_the_final_response(client: ResponsesClient) -> None:
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "strict": False,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }
    ]
    stream = client.responses.create(model="o4-mini", input="weather in Paris?", tools=tools, stream=True)
    snapshots = []
    for event in stream:
        if event.type == "response.function_call_arguments.done":
            snapshots.append(stream.snapshot.model_copy(deep=True))  # type: ignore[union-attr]
    final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert len(calls) == 1
    built = [item for item in snapshots[0].output if item.type == "function_call"]
    assert built[0].arguments == calls[0].arguments  # type: ignore[union-attr]
    assert "city" in calls[0].arguments


@pytest.mark.parametrize("name", [n for n in BEHAVIOURS if n != "failure"])  # failure: the error-event test
def test_every_behaviour_streams_to_the_retrieved_response(client: ResponsesClient, name: str) -> None:
    stream = client.responses.create(**BEHAVIOURS[name], stream=True)
    events = list(stream)
    assert events and not [e for e in events if isinstance(e, UnknownEvent)]
    final = stream.get_final_response()
    assert client.responses.retrieve(final.id).model_dump() == final.model_dump()


def test_text_deltas_and_resume_with_starting_after(client: ResponsesClient) -> None:
    created = client.responses.create(model="gpt-4.1", input="resume this stream")
    assert "".join(client.responses.create(model="gpt-4.1", input="x y", stream=True).text_deltas()) == "You said: x y"
    with client.responses.retrieve(created.id, stream=True, starting_after=2) as stream:
        events = list(stream)
        assert all(e.sequence_number is None or e.sequence_number > 2 for e in events)  # type: ignore[union-attr]
        assert stream.get_final_text() == "You said: resume this stream"


def test_stream_error_event_raises_with_its_code(client: ResponsesClient) -> None:
    stream = client.responses.create(model="gpt-4.1", input="[fail] now", stream=True)
    with pytest.raises(APIStreamError) as caught:
        list(stream)
    assert caught.value.code and caught.value.message
    assert caught.value.event.type == "error"


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (lambda c: c.responses.create(input="no model"), BadRequestError, "missing_required_parameter"),
        (lambda c: c.responses.retrieve("resp_missing"), NotFoundError, None),
    ],
)
def test_typed_errors_carry_the_envelope(
    client: ResponsesClient, call: object, error: type[APIStatusError], code: str | None
) -> None:
    with pytest.raises(error) as caught:
        call(client)  # type: ignore[operator]
    assert caught.value.status_code in (400, 404)
    assert caught.value.message and caught.value.type == "invalid_request_error"
    assert caught.value.code == code
    assert isinstance(caught.value.body, dict) and "error" in caught.value.body


def test_401_and_429_and_the_key_stays_secret() -> None:
    with run_server(api_keys={"sk-good"}, rate_limit=1) as base:
        with ResponsesClient(base_url=base, api_key="sk-bad-secret-value", max_retries=0) as bad:
            with pytest.raises(AuthenticationError) as caught:
                bad.responses.create(model="gpt-4.1", input="hi")
            assert "sk-bad-secret-value" not in str(caught.value) + repr(caught.value) + repr(bad)
            assert "sk-bad-secret-value" not in str(caught.value.body)
        with ResponsesClient(base_url=base, api_key="sk-good", max_retries=0) as good:
            good.responses.create(model="gpt-4.1", input="one")
            with pytest.raises(RateLimitError) as limited:
                good.responses.create(model="gpt-4.1", input="two")
            assert limited.value.response.headers.get("retry-after")


def test_async_client_every_operation(url: str) -> None:
    async def main() -> None:
        async with AsyncResponsesClient(base_url=url, api_key=KEY) as client:
            created = await client.responses.create(model="gpt-4.1", input="async hello")
            assert output_text(created) == "You said: async hello"
            stream = await client.responses.create(model="gpt-4.1", input="async stream", stream=True)
            async with stream:
                types = [event.type async for event in stream]
                assert types[-1] == "response.completed"
                assert await stream.get_final_text() == "You said: async stream"
            assert (await client.responses.retrieve(created.id)).id == created.id
            resumed = await client.responses.retrieve(created.id, stream=True, starting_after=0)
            assert (await resumed.get_final_response()).id == created.id
            pager = await client.responses.input_items.list(created.id, limit=1)
            assert len([item async for item in pager]) == 1
            assert (await client.responses.input_tokens.count(input="a b")).input_tokens == 2
            assert (await client.responses.compact(model="gpt-4.1", input="c")).object == "response.compaction"
            raw = await client.responses.with_raw_response.retrieve(created.id)
            assert raw.status_code == 200 and raw.parse().id == created.id
            held = await client.responses.create(model="gpt-4.1", input="[hold]", background=True)
            assert (await client.responses.cancel(held.id)).status == "cancelled"
            await client.responses.delete(created.id)
            with pytest.raises(NotFoundError):
                await client.responses.retrieve(created.id)

    asyncio.run(main())


def test_raw_response_gives_status_and_headers(client: ResponsesClient) -> None:
    raw = client.responses.with_raw_response.create(model="gpt-4.1", input="raw please")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/json")
    assert output_text(raw.parse()) == "You said: raw please"


# --- quirk modes: deviations are tolerated, or reported with a typed error --------------------------


def _stream_text(quirk: str) -> tuple[list[str | None], str]:
    with run_server(quirks=quirk) as base, ResponsesClient(base_url=base, api_key=KEY, max_retries=0) as c:
        stream = c.responses.create(model="gpt-4.1", input="quirky words", stream=True)
        types = [e.type for e in stream]
        return types, stream.get_final_text()


@pytest.mark.parametrize(
    "quirk",
    ["acedata", "openrouter", "4allapi", "wrong-content-type", "out-of-order", "repeated-sequence", "bad-deltas"],
)
def test_quirky_streams_read_to_the_final_response(quirk: str) -> None:
    types, text = _stream_text(quirk)
    assert "response.completed" in types and None not in types
    assert text == "You said: quirky words"


def test_no_terminal_stream_raises_incomplete_with_the_snapshot() -> None:
    with run_server(quirks="no-terminal") as base, ResponsesClient(base_url=base, api_key=KEY, max_retries=0) as c:
        stream = c.responses.create(model="gpt-4.1", input="never ends", stream=True)
        with pytest.raises(IncompleteStreamError) as caught:
            stream.get_final_response()
        assert caught.value.snapshot is not None
        assert output_text(caught.value.snapshot) == "You said: never ends"


def test_acedata_error_envelope_gives_the_typed_error() -> None:
    with (
        run_server(quirks="acedata", api_keys={"sk-good"}) as base,
        ResponsesClient(base_url=base, api_key="sk-wrong", max_retries=0) as c,
        pytest.raises(AuthenticationError) as caught,
    ):
        c.responses.create(model="gpt-4.1", input="hi")
    assert caught.value.code == "invalid_token" and caught.value.message
    assert caught.value.body["success"] is False and "trace_id" in caught.value.body


def test_bare_error_body_gives_the_typed_error() -> None:
    with (
        run_server(quirks="bare-error") as base,
        ResponsesClient(base_url=base, api_key=KEY, max_retries=0) as c,
        pytest.raises(NotFoundError) as caught,
    ):
        c.responses.retrieve("resp_nope")
    assert caught.value.message and "error" not in caught.value.body


def test_chat_completions_quirk_is_a_validation_error_with_the_body() -> None:
    with run_server(quirks="chat-completions") as base, ResponsesClient(base_url=base, api_key=KEY, max_retries=0) as c:
        with pytest.raises(APIResponseValidationError) as caught:
            c.responses.create(model="gpt-4.1", input="hi")
        assert caught.value.body["object"] == "chat.completion"
        stream = c.responses.create(model="gpt-4.1", input="hi", stream=True)
        with pytest.raises(APIResponseValidationError):
            list(stream)
