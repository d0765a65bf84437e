"""Live scenarios: short conversations that exercise every `/responses` operation.

A scenario is a plain function registered with `@scenario`; its name is its id on the command line
(`respkit check --scenario NAME`) and in reports. Scenarios only send requests and state what the
conversation must show (`expect`); the traffic itself is checked by the conformance engine. The
requests are ordinary ones a real provider answers; the reference server's deterministic model
(conformance/server/model.py) answers them the same way every time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from respkit.conformance.findings import Finding
from respkit.conformance.live.session import WRONG_KEY, Exchange, Session
from respkit.conformance.profiles import Profile
from respkit.conformance.sse import read_frames

ScenarioFunc = Callable[["Conversation"], None]
#: why the scenarios about keys are skipped in a run without one
KEYLESS = "keyless run (--no-auth, or an empty key): no key to tell a wrong one from"
SCENARIOS: dict[str, ScenarioFunc] = {}

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}


def scenario(func: ScenarioFunc) -> ScenarioFunc:
    SCENARIOS[func.__name__] = func
    return func


@dataclass
class Conversation:
    """What a scenario works with: the session, the model to ask for, and its own findings."""

    session: Session
    name: str
    model: str
    reasoning_model: str | None
    findings: list[Finding] = field(default_factory=list)
    #: why the scenario could not do what it is for (reported as skipped, not as passed)
    skipped: str = ""
    #: the provider's profile: the tools it lacks, the models it serves besides `model` and `reasoning_model`
    profile: Profile = field(default_factory=lambda: Profile("unnamed"))

    def skip(self, reason: str) -> None:
        self.skipped = reason

    def created_id(self, exchange: Exchange) -> str | None:
        """The id of the response `exchange` created. Without one the scenario cannot go on: it is skipped,
        with the answer as the reason (the checks of that exchange say whether the answer itself is wrong)."""
        rid = (body_of(exchange) or {}).get("id")
        if isinstance(rid, str) and rid:
            return rid
        self.skip(f"{exchange.method} {exchange.path} answered {exchange.status} without a response id")
        return None

    def send(self, operation: str, method: str, path: str, body: Any = None, **kw: Any) -> Exchange:
        return self.session.request(self.name, operation, method, path, body, **kw)

    def create(self, **body: Any) -> Exchange:
        return self.send("createResponse", "POST", "/responses", {"model": self.model, **body})

    def expect(self, check: str, ok: bool, message: str, exchange: Exchange, *, expected: Any, received: Any) -> bool:
        """Record a finding when a conversation does not show what the spec says it must."""
        if not ok:
            self.findings.append(exchange.failure(check, message, expected=expected, received=received))
        return ok

    def expect_status(self, check: str, exchange: Exchange, status: int, message: str) -> bool:
        """`expect` for the one thing most expectations look at: the answer's HTTP status."""
        return self.expect(
            check, exchange.status == status, message, exchange, expected=status, received=exchange.status
        )


def body_of(exchange: Exchange) -> dict[str, Any] | None:
    """The response object of an exchange: the JSON body, or a stream's last `response` payload."""
    if exchange.kind == "json":
        try:
            value = exchange.json()
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    if exchange.kind != "stream":
        return None
    responses = [e["response"] for e in stream_events(exchange) if isinstance(e.get("response"), dict)]
    return responses[-1] if responses else None


def stream_events(exchange: Exchange) -> list[dict[str, Any]]:
    """The JSON events of a streamed exchange, in order (frames that are not JSON objects are skipped)."""
    events = []
    for frame in read_frames([exchange.body]):
        try:
            event = json.loads(frame.data)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def output_items(response: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The output items of a response, whatever shape a misbehaving provider gave `output`."""
    output = (response or {}).get("output")
    return [i for i in output if isinstance(i, dict)] if isinstance(output, list) else []


def output_text(response: dict[str, Any] | None) -> str:
    parts = []
    for item in items_of(response, "message"):
        content = item.get("content")
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
    return "".join(parts)


def items_of(response: dict[str, Any] | None, kind: str) -> list[dict[str, Any]]:
    return [i for i in output_items(response) if i.get("type") == kind]


def output_types(response: dict[str, Any] | None) -> list[Any]:
    return [i.get("type") for i in output_items(response)]


def expect_function_call(c: Conversation, exchange: Exchange) -> list[dict[str, Any]]:
    """With `tool_choice: required` the answer must call a function; returns the calls."""
    response = body_of(exchange)
    calls = items_of(response, "function_call")
    c.expect(
        "function_call_when_tool_required",
        bool(calls),
        "tool_choice was `required` but the response has no function_call item",
        exchange,
        expected="a function_call output item",
        received=output_types(response),
    )
    return calls


@scenario
def text(c: Conversation) -> None:
    """A plain text answer as JSON."""
    c.create(input="Say hello in one short sentence.")


@scenario
def text_stream(c: Conversation) -> None:
    """A plain text answer as a stream."""
    c.create(input="Say hello in one short sentence.", stream=True)


@scenario
def stream_without_obfuscation(c: Conversation) -> None:
    """`stream_options.include_obfuscation: false`: no event carries the `obfuscation` padding."""
    ex = c.create(input="Say hello in one short sentence.", stream=True, stream_options={"include_obfuscation": False})
    padded = [e.get("type") for e in stream_events(ex) if "obfuscation" in e]
    c.expect(
        "obfuscation_can_be_turned_off",
        not padded,
        "events carry `obfuscation` although the request set include_obfuscation to false",
        ex,
        expected="no `obfuscation` member",
        received=f"{len(padded)} events with one, the first a {padded[0]}" if padded else "",
    )


MATH_TOOL = {"type": "custom", "name": "math_exp", "description": "Evaluates an arithmetic expression."}


@scenario
def custom_tool_stream(c: Conversation) -> None:
    """A required custom (free-form input) tool: the stream carries a custom_tool_call with streamed input.
    Asked of the reasoning model, as custom tools came with the GPT-5 models."""
    if c.reasoning_model is None:
        c.skip("no reasoning model: name one with --reasoning-model, or under `models` in the profile")
        return
    body = {"model": c.reasoning_model, "input": "Use math_exp for 4 + 4.", "tools": [MATH_TOOL],
            "tool_choice": "required", "stream": True}  # fmt: skip
    ex = c.send("createResponse", "POST", "/responses", body)
    if ex.status != 200:
        c.skip(f"the custom tool was refused ({ex.status})")
        return
    response = body_of(ex)
    c.expect(
        "custom_tool_call_when_required",
        bool(items_of(response, "custom_tool_call")),
        "tool_choice was `required` with only a custom tool, but the response has no custom_tool_call item",
        ex,
        expected="a custom_tool_call output item",
        received=output_types(response),
    )


@scenario
def web_search_stream(c: Conversation) -> None:
    """The web search tool's stream (a web_search_call's phases, then a cited answer) where the provider has it."""
    if "web_search" in c.profile.lacks_tools:
        c.skip(f"the {c.profile.name} profile says the provider lacks the web_search tool")
        return
    ex = c.create(input="What is the capital of France? Cite a source.", tools=[{"type": "web_search"}], stream=True)
    if ex.status != 200:
        c.skip(f"the web_search tool was refused ({ex.status})")


@scenario
def function_call_stream(c: Conversation) -> None:
    """A required function tool: the stream must carry a function_call with streamed arguments."""
    ex = c.create(input="What is the weather in Paris?", tools=[WEATHER_TOOL], tool_choice="required", stream=True)
    expect_function_call(c, ex)


@scenario
def function_call_round_trip(c: Conversation) -> None:
    """A function call, then its output in the next turn (previous_response_id), then a text answer."""
    first = c.create(input="What is the weather in Paris?", tools=[WEATHER_TOOL], tool_choice="required")
    calls = expect_function_call(c, first)
    if not calls:
        return
    response = body_of(first) or {}
    second = c.create(
        previous_response_id=response.get("id"),
        input=[{"type": "function_call_output", "call_id": calls[0].get("call_id"), "output": '{"celsius": 21}'}],
        tools=[WEATHER_TOOL],
    )
    answer = body_of(second)
    c.expect(
        "function_call_output_answered",
        bool(output_text(answer)) and second.status == 200,
        "after the function's output the model must answer with a message",
        second,
        expected="a message with output_text",
        received=output_types(answer) or second.status,
    )


@scenario
def reasoning_stream(c: Conversation) -> None:
    """A reasoning model's stream (reasoning item and summary events) where the profile names one."""
    if c.reasoning_model is None:
        c.skip("no reasoning model: name one with --reasoning-model, or under `models` in the profile")
        return
    c.send(
        "createResponse",
        "POST",
        "/responses",
        {
            "model": c.reasoning_model,
            "input": "Why is the sky blue? One sentence.",
            "reasoning": {"effort": "low", "summary": "auto"},
            "stream": True,
        },
    )


@scenario
def structured_output(c: Conversation) -> None:
    """`text.format` json_schema: the answer must be JSON valid against the schema."""
    from jsonschema import Draft202012Validator

    fmt = {"type": "json_schema", "name": "city", "schema": CITY_SCHEMA, "strict": True}
    ex = c.create(input="Name a large city and its population.", text={"format": fmt})
    raw = output_text(body_of(ex))
    try:
        value = json.loads(raw)
        errors = [e.message for e in Draft202012Validator(CITY_SCHEMA).iter_errors(value)]
    except ValueError:
        errors = ["not JSON"]
    c.expect(
        "structured_output_matches_schema",
        not errors,
        "the output text is not JSON valid against text.format.schema",
        ex,
        expected=CITY_SCHEMA,
        received=f"{raw!r}: {errors[:2]}",
    )


@scenario
def incomplete_stream(c: Conversation) -> None:
    """A small `max_output_tokens` on a long answer: the stream must end in response.incomplete."""
    ex = c.create(input="[long] Write a long story about a lighthouse.", max_output_tokens=16, stream=True)
    response = body_of(ex) or {}
    c.expect(
        "max_output_tokens_gives_incomplete",
        response.get("status") == "incomplete"
        and (response.get("incomplete_details") or {}).get("reason") == "max_output_tokens",
        "a response cut by max_output_tokens must be `incomplete` with reason `max_output_tokens`",
        ex,
        expected={"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}},
        received={"status": response.get("status"), "incomplete_details": response.get("incomplete_details")},
    )


def expect_retrieved(c: Conversation, response: dict[str, Any]) -> None:
    """A stored response can be retrieved by its id, equal to what the create answered."""
    got = c.send("getResponse", "GET", f"/responses/{response['id']}")
    c.expect_status("stored_response_retrievable", got, 200, "a stored response cannot be retrieved")
    if got.status == 200:
        retrieved = body_of(got) or {}
        keys = ("id", "status", "output", "usage", "model")
        c.expect(
            "retrieved_response_equals_created",
            all(retrieved.get(k) == response.get(k) for k in keys),
            "the retrieved response differs from the one created",
            got,
            expected={k: response.get(k) for k in keys},
            received={k: retrieved.get(k) for k in keys},
        )


@scenario
def retrieve_and_items(c: Conversation) -> None:
    """A stored response can be retrieved (equal to the created one) and its input items listed."""
    created = c.create(input="Say hello in one short sentence.", store=True)
    rid = c.created_id(created)
    if not rid:
        return
    expect_retrieved(c, body_of(created) or {})
    items = c.send("listInputItems", "GET", f"/responses/{rid}/input_items?limit=1&order=asc")
    c.expect_status("stored_input_items_listed", items, 200, "a stored response's input items cannot be listed")


def _item_ids(page: dict[str, Any] | None) -> list[Any]:
    data = (page or {}).get("data")
    return [i.get("id") for i in data if isinstance(i, dict)] if isinstance(data, list) else []


@scenario
def input_items_pages(c: Conversation) -> None:
    """Input items listed one per page, each page asked for `after` the last one's `last_id`, are the items of
    a single page in the same order: three messages in, three items out, `has_more` false on the last page."""
    messages = [{"role": "user", "content": f"Item {n}."} for n in (1, 2, 3)]
    rid = c.created_id(c.create(input=messages, store=True))
    if not rid:
        return
    listing = f"/responses/{rid}/input_items?order=asc&limit="
    whole = c.send("listInputItems", "GET", f"{listing}100")
    expected = _item_ids(body_of(whole))
    paged: list[Any] = []
    last = whole
    cursor = ""
    for _ in range(len(messages) + 2):  # a page that never ends stops here
        last = c.send("listInputItems", "GET", f"{listing}1{cursor}")
        page = body_of(last) or {}
        paged += _item_ids(page)
        if not page.get("has_more") or not isinstance(page.get("last_id"), str):
            break
        cursor = f"&after={page['last_id']}"
    c.expect(
        "input_items_paginate",
        len(expected) == len(messages) and paged == expected,
        "listing the input items page by page does not give the items of one full page",
        last,
        expected=f"{len(messages)} items, page by page: {expected}",
        received=paged,
    )


@scenario
def streamed_response_stored(c: Conversation) -> None:
    """A streamed, stored response can be retrieved, equal to the stream's terminal response."""
    created = c.create(input="Say hello in one short sentence.", store=True, stream=True)
    if c.created_id(created):
        expect_retrieved(c, body_of(created) or {})


@scenario
def unstored_response(c: Conversation) -> None:
    """`store: false`: the response is not kept, so retrieving it is a 404 (a provider that keeps it holds
    data its user asked it not to)."""
    rid = c.created_id(c.create(input="Say hello.", store=False))
    if not rid:
        return
    got = c.send("getResponse", "GET", f"/responses/{rid}")
    c.expect_status(
        "unstored_response_not_retrievable", got, 404, "a response created with store: false can be retrieved"
    )


#: where `stream_resume` picks the stream up again: inside the first output item (after its `output_item.added`)
RESUME_AFTER = 3


def _comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without its `obfuscation` padding, which is random on each stream."""
    return {k: v for k, v in event.items() if k != "obfuscation"}


def _outline(events: list[dict[str, Any]]) -> list[str]:
    return [f"{e.get('sequence_number')} {e.get('type')}" for e in events[:6]]


@scenario
def stream_resume(c: Conversation) -> None:
    """A background response streamed, then its stream resumed (`GET /responses/{id}?stream=true&starting_after=N`):
    the resumed events are the original's after sequence_number N. The checks read the resumed stream
    after the original's first events, so it must continue them seamlessly."""
    first = c.create(input="Say hello in one short sentence.", background=True, store=True, stream=True)
    events = stream_events(first)
    rid = c.created_id(first)
    cut = next((i for i, e in enumerate(events) if e.get("sequence_number") == RESUME_AFTER), None)
    if not rid:
        return
    if cut is None:
        c.skip(f"the stream has no event with sequence_number {RESUME_AFTER} to resume after")
        return
    path = f"/responses/{rid}?stream=true&starting_after={RESUME_AFTER}"
    resumed = c.send("getResponse", "GET", path, resumes=(first, RESUME_AFTER))
    tail = [_comparable(e) for e in events[cut + 1 :]]
    got = [_comparable(e) for e in stream_events(resumed)] if resumed.kind == "stream" else None
    c.expect(
        "stream_resumes_after_sequence_number",
        resumed.status == 200 and got == tail,
        f"the resumed stream is not the original's events after sequence_number {RESUME_AFTER}",
        resumed,
        expected=f"a 200 event stream: {_outline(tail)}...",
        received=f"{resumed.status} {resumed.kind}" + (f": {_outline(got)}..." if got is not None else ""),
    )


@scenario
def delete(c: Conversation) -> None:
    """A deleted response is gone: retrieving it again is a 404 in the error envelope."""
    rid = c.created_id(c.create(input="Say hello.", store=True))
    if not rid:
        return
    deleted = c.send("deleteResponse", "DELETE", f"/responses/{rid}")
    c.expect_status("delete_succeeds", deleted, 200, "deleting a stored response failed")
    again = c.send("getResponse", "GET", f"/responses/{rid}")
    c.expect_status("deleted_response_is_gone", again, 404, "a deleted response can still be retrieved")


@scenario
def background_cancel(c: Conversation) -> None:
    """A background response can be cancelled before it finishes."""
    rid = c.created_id(c.create(input="[hold] Write a long essay.", background=True, store=True))
    if not rid:
        return
    cancelled = c.send("cancelResponse", "POST", f"/responses/{rid}/cancel")
    status = (body_of(cancelled) or {}).get("status")
    c.expect(
        "background_response_cancels",
        cancelled.status == 200 and status == "cancelled",
        "cancelling a running background response must give status `cancelled`",
        cancelled,
        expected="200 with status cancelled",
        received=f"{cancelled.status} with status {status}",
    )


@scenario
def compact_and_continue(c: Conversation) -> None:
    """A conversation compacted (`POST /responses/compact`), and its compacted output sent back as the next
    request's input, which is how the compacted window is meant to be used."""
    conversation = [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "Remember that."},
    ]
    compacted = c.send("Compactconversation", "POST", "/responses/compact", {"model": c.model, "input": conversation})
    output = (body_of(compacted) or {}).get("output")
    if compacted.status != 200 or not isinstance(output, list):
        c.skip(f"POST /responses/compact answered {compacted.status} without an output list")
        return
    follow = c.create(input=[*output, {"role": "user", "content": "What is my name?"}])
    c.expect_status("compacted_output_is_valid_input", follow, 200, "a compacted window sent back as input is refused")


@scenario
def input_tokens(c: Conversation) -> None:
    """Input token counting for a request."""
    c.send("Getinputtokencounts", "POST", "/responses/input_tokens", {"model": c.model, "input": "Say hello."})


@scenario
def error_not_found(c: Conversation) -> None:
    """An unknown response id: 404 in OpenAI's error envelope."""
    ex = c.send("getResponse", "GET", "/responses/resp_respkit_does_not_exist")
    c.expect_status("unknown_id_is_404", ex, 404, "an unknown id must be a 404")


@scenario
def error_bad_request(c: Conversation) -> None:
    """An invalid body (temperature out of range): 400 in the envelope, `param` naming the field."""
    ex = c.create(input="Say hello.", temperature=99)
    c.expect_status("invalid_body_is_400", ex, 400, "an invalid body must be a 400")


@scenario
def error_unauthenticated(c: Conversation) -> None:
    """A wrong key: 401 in the envelope."""
    if not c.session.api_key:
        c.skip(KEYLESS)
        return
    ex = c.send("createResponse", "POST", "/responses", {"model": c.model, "input": "hi"}, auth=WRONG_KEY)
    c.expect_status("bad_key_is_401", ex, 401, "a wrong key must be a 401")


from respkit.conformance.live import ws  # noqa: E402, F401  (registers the WebSocket mode's scenarios)
