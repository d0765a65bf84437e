"""A user's script against the generated client; `tests/test_client_typing.py` type-checks it with mypy --strict
(it is never run). The `reveal`-style assignments pin the types a user sees."""

from __future__ import annotations

import asyncio

import httpx
from pydantic import BaseModel

from respkit.generated import (
    APIStatusError,
    APIStreamError,
    AsyncResponsesClient,
    ParsedResponse,
    RateLimitError,
    ResponsesClient,
    ResponseStream,
    models,
    output_text,
    pydantic_function_tool,
)


class CalendarEvent(BaseModel):
    name: str
    participants: list[str]


def sync_usage() -> str:
    with ResponsesClient(api_key="sk-...", base_url="http://127.0.0.1:8000/v1", max_retries=3) as client:
        response: models.Response = client.responses.create(
            model="gpt-4.1",
            input=[{"role": "user", "content": "hi"}],
            reasoning=models.Reasoning(effort="low"),
            tools=[{"type": "function", "name": "f", "parameters": {}, "strict": True}],
            service_tier="auto",
            extra_headers={"X-Trace": "1"},
            timeout=httpx.Timeout(30.0, connect=2.0),
        )
        stream: ResponseStream = client.responses.create(model="gpt-4.1", input="hi", stream=True)
        with stream:
            for event in stream:
                if isinstance(event, models.ResponseTextDeltaEvent):
                    delta: str = event.delta
                    print(delta)
            final: models.Response = stream.get_final_response()
            text: str = stream.get_final_text()
        resumed = client.responses.retrieve(response.id, stream=True, starting_after=3)
        for piece in resumed.text_deltas():
            print(piece)
        count: int = client.responses.input_tokens.count(model="gpt-4.1", input="hi").input_tokens
        for item in client.responses.input_items.list(response.id, order="asc", limit=10):
            print(item)
        pages: list[models.ResponseItemList] = list(client.responses.input_items.list(response.id).iter_pages())
        compacted: models.CompactResource = client.responses.compact(model="gpt-4.1", input="x")
        cancelled: models.Response = client.responses.cancel(response.id)
        client.responses.delete(response.id)
        raw = client.responses.with_raw_response.retrieve(response.id)
        status: int = raw.status_code
        parsed: models.Response = raw.parse()
        try:
            client.responses.create(model="gpt-4.1", input="hi")
        except RateLimitError as exc:
            retry_after: str | None = exc.response.headers.get("retry-after")
            print(retry_after, exc.code)
        except APIStatusError as exc:
            print(exc.status_code, exc.message, exc.type, exc.param, exc.code, exc.body)
        except APIStreamError as exc:
            print(exc.code)
        print(final, count, pages, compacted, cancelled, status, parsed)
        sdk_text: str = response.output_text
        request_id: str | None = response._request_id
        extracted: ParsedResponse[CalendarEvent] = client.responses.parse(
            model="gpt-4.1", input="Alice and Bob meet", text_format=CalendarEvent
        )
        extracted_event: CalendarEvent | None = extracted.output_parsed
        unread: ParsedResponse[None] = client.responses.parse(model="gpt-4.1", input="hi")
        with client.responses.stream(model="gpt-4.1", input="hi", text_format=CalendarEvent) as helper:
            for streamed in helper:
                print(streamed.type)
            streamed_event: CalendarEvent | None = helper.get_final_response().output_parsed
        with client.responses.stream(response_id=response.id, starting_after=2) as again:
            print(again.get_final_text())
        tools = [pydantic_function_tool(CalendarEvent)]
        print(client.with_options(max_retries=5).responses.parse(model="gpt-4.1", input="x", tools=tools))
        print(sdk_text, request_id, extracted_event, unread, streamed_event)
        return text + output_text(response)


async def async_usage() -> str:
    async with AsyncResponsesClient() as client:
        response = await client.responses.create(model="gpt-4.1", input="hi")
        stream = await client.responses.create(model="gpt-4.1", input="hi", stream=True)
        async with stream:
            async for event in stream:
                print(event.type)
        pager = await client.responses.input_items.list(response.id)
        async for item in pager:
            print(item)
        async for item in client.responses.input_items.list(response.id, limit=2):
            print(item)
        if pager.has_next_page():
            print((await pager.get_next_page()).data)
        final: models.Response = await stream.get_final_response()
        parsed = await client.responses.parse(model="gpt-4.1", input="x", text_format=CalendarEvent)
        async with client.responses.stream(model="gpt-4.1", input="hi", text_format=CalendarEvent) as helper:
            async for helped in helper:
                print(helped.type)
            event_read: CalendarEvent | None = (await helper.get_final_response()).output_parsed
        print(parsed.output_parsed, event_read)
        return output_text(final) + response.id


if __name__ == "__main__":
    print(sync_usage(), asyncio.run(async_usage()))
