"""Each scenario expectation fails when the server breaks exactly what it looks at.

The scenarios run over real HTTP against a proxy in front of the reference server (tests/_misbehaving_proxy.py);
the proxy applies one named breakage to the traffic. The faithful proxy is clean, so a failure under a
breakage is the breakage's doing, and the expectation is shown to catch it."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from respkit.conformance.live import Session, run_scenarios
from respkit.conformance.profiles import load_profile
from respkit.conformance.replay import Result
from respkit.conformance.server import run_server
from respkit.conformance.sse import SseReader
from tests._misbehaving_proxy import (
    Answer,
    Breakage,
    Call,
    Event,
    Forward,
    Proxy,
    faithful,
    rewrite_events,
    run_proxy,
)

KEY = "sk-respkit-expectations-0123456789"
RESPONSE_PATH = re.compile(r"/responses/(?P<id>[^/]+)$")


@pytest.fixture(scope="module")
def module_proxy() -> Iterator[Proxy]:
    with run_server() as upstream, run_proxy(upstream) as proxy:
        yield proxy


@pytest.fixture
def proxy(module_proxy: Proxy) -> Iterator[Proxy]:
    """The module's proxy, faithful again after the test."""
    yield module_proxy
    module_proxy.breakage = faithful


def run(url: str, scenarios: list[str], reasoning_model: str | None = "o4-mini") -> list[Result]:
    """The scenarios against `url` under the openai profile."""
    with Session(url, KEY, "OPENAI_API_KEY", timeout=30) as session:
        return run_scenarios(session, load_profile("openai"), "gpt-4.1-mini", reasoning_model, scenarios)


def failures(url: str, scenarios: list[str]) -> dict[str, set[str]]:
    """scenario -> the checks that failed in it (every scenario must have run)."""
    results = run(url, scenarios)
    out = {r.recording.display.removeprefix("live: "): {f.check for f in r.findings if f.fails} for r in results}
    assert sorted(out) == sorted(scenarios)
    return out


def _response_id(call: Call) -> str | None:
    found = RESPONSE_PATH.search(call.route)
    return found.group("id") if found else None


def _is_create(call: Call) -> bool:
    return call.method == "POST" and call.route.endswith("/responses") and isinstance(call.body, dict)


def _edit_output(answer: Answer, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Answer:
    body = answer.json()
    return answer.with_json({**body, "output": edit(body["output"])})


def _retext(output: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The output with each output_text part's text replaced."""
    out = []
    for item in output:
        if item.get("type") == "message":
            content = [{**c, "text": text} if c.get("type") == "output_text" else c for c in item["content"]]
            item = {**item, "content": content}
        out.append(item)
    return out


# -- breakages: each changes only what one expectation looks at ---------------------------------------------


async def unknown_id_is_400(call: Call, forward: Forward) -> Answer:
    answer = await forward(call)
    if call.method == "GET" and _response_id(call) and answer.status == 404:
        return replace(answer, status=400)
    return answer


async def out_of_range_temperature_accepted(call: Call, forward: Forward) -> Answer:
    """temperature 99 is not validated: the request is served as if it had none."""
    if _is_create(call) and call.body.get("temperature", 1) > 2:
        call = replace(call, body={k: v for k, v in call.body.items() if k != "temperature"})
    return await forward(call)


def _completed(response: dict[str, Any]) -> dict[str, Any]:
    return {**response, "status": "completed", "incomplete_details": None} if response else response


async def cut_answer_completed(call: Call, forward: Forward) -> Answer:
    """A response cut by max_output_tokens is reported `completed` (its stream ends in response.completed)."""
    answer = await forward(call)
    if not (_is_create(call) and call.body.get("max_output_tokens") and answer.is_stream):
        return answer

    def edit(event: Event) -> Event:
        if event["type"] == "response.incomplete":
            event = {**event, "type": "response.completed"}
        if isinstance(event.get("response"), dict) and event["type"] == "response.completed":
            event = {**event, "response": _completed(event["response"])}
        return event

    return replace(answer, body=rewrite_events(answer.body, edit))


def structured_text(text: str) -> Breakage:
    """The json_schema answer's text replaced by `text`."""

    async def breakage(call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        fmt = ((call.body or {}).get("text") or {}).get("format") if _is_create(call) else None
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and answer.status == 200:
            return _edit_output(answer, lambda output: _retext(output, text))
        return answer

    return breakage


def calls_stripped(kind: str) -> Breakage:
    """tool_choice `required` answered without the `kind` items (nor their events in a stream)."""

    def without(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item for item in output if item.get("type") != kind]

    async def breakage(call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        if not (_is_create(call) and call.body.get("tool_choice") == "required" and answer.status == 200):
            return answer
        if not answer.is_stream:
            return _edit_output(answer, without)
        dropped: set[int] = set()

        def edit(event: Event) -> Event | None:
            item = event.get("item")
            if event["type"] == "response.output_item.added" and isinstance(item, dict) and item["type"] == kind:
                dropped.add(event["output_index"])
            if event.get("output_index") in dropped:
                return None
            if isinstance(event.get("output_index"), int):
                index = event["output_index"]
                event = {**event, "output_index": index - sum(i < index for i in dropped)}
            response = event.get("response")
            if isinstance(response, dict):
                event = {**event, "response": {**response, "output": without(response["output"])}}
            return event

        return replace(answer, body=rewrite_events(answer.body, edit))

    return breakage


async def function_output_unanswered(call: Call, forward: Forward) -> Answer:
    """The turn carrying a function_call_output is answered with no message."""
    answer = await forward(call)
    items = (call.body or {}).get("input") if _is_create(call) else None
    if isinstance(items, list) and any(i.get("type") == "function_call_output" for i in items):
        return _edit_output(answer, lambda output: [i for i in output if i.get("type") != "message"])
    return answer


async def retrieve_differs(call: Call, forward: Forward) -> Answer:
    """A retrieved response's message says something other than the created one did."""
    answer = await forward(call)
    if call.method == "GET" and _response_id(call) and answer.status == 200 and not answer.is_stream:
        return _edit_output(answer, lambda output: _retext(output, "Something else entirely."))
    return answer


def deleted_still_served() -> Breakage:
    """A deleted response keeps being served: what it was before the delete is answered again with 200."""
    gone: dict[str, Answer] = {}

    async def breakage(call: Call, forward: Forward) -> Answer:
        rid = _response_id(call)
        if rid is None:
            return await forward(call)
        if call.method == "DELETE":
            before = await forward(replace(call, method="GET"))
            answer = await forward(call)
            if answer.status == 200 and before.status == 200:
                gone[rid] = before
            return answer
        if call.method == "GET" and rid in gone:
            return gone[rid]
        return await forward(call)

    return breakage


ZERO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


def cancel_reports(status: str) -> Breakage:
    """A cancelled background response is reported with `status` instead (a `completed` one with the usage
    every completed response carries, so that only the status is wrong)."""

    async def breakage(call: Call, forward: Forward) -> Answer:
        answer = await forward(call)
        if call.method == "POST" and call.route.endswith("/cancel") and answer.status == 200:
            body = answer.json()
            if body.get("status") == "cancelled":
                extra = {"usage": body.get("usage") or ZERO_USAGE} if status == "completed" else {}
                return answer.with_json({**body, "status": status, **extra})
        return answer

    return breakage


def refused(message: str, param: str) -> Answer:
    """A 400 in OpenAI's envelope: what a provider answers to what it does not support."""
    error = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}
    return Answer(400, {"content-type": "application/json"}, json.dumps(error).encode())


def _resumes(call: Call) -> bool:
    return call.method == "GET" and "starting_after=" in call.path


async def resume_as_json(call: Call, forward: Forward) -> Answer:
    """`stream=true` on a retrieve is ignored: the stored response comes back as JSON."""
    return await forward(replace(call, path=call.route) if _resumes(call) else call)


async def resume_unsupported(call: Call, forward: Forward) -> Answer:
    """Resuming a stream is refused with a 400 (in a proper envelope)."""
    if not _resumes(call):
        return await forward(call)
    return refused("Streaming a stored response is not supported.", "stream")


async def resume_from_the_start(call: Call, forward: Forward) -> Answer:
    """`starting_after` is ignored: the resumed stream starts again at sequence_number 0."""
    if _resumes(call):
        call = replace(call, path=re.sub(r"&starting_after=\d+", "", call.path))
    return await forward(call)


async def store_false_ignored(call: Call, forward: Forward) -> Answer:
    """`store: false` is not honoured: the response is kept anyway."""
    if _is_create(call) and call.body.get("store") is False:
        call = replace(call, body={**call.body, "store": True})
    return await forward(call)


async def cursor_ignored(call: Call, forward: Forward) -> Answer:
    """`after` is ignored: every page is the first one."""
    if call.method == "GET" and "/input_items" in call.route:
        call = replace(call, path=re.sub(r"&after=[^&]+", "", call.path))
    return await forward(call)


async def no_more_pages(call: Call, forward: Forward) -> Answer:
    """`has_more` is always false, so a client stops after the first page."""
    answer = await forward(call)
    if call.method == "GET" and "/input_items" in call.route and answer.status == 200:
        return answer.with_json({**answer.json(), "has_more": False})
    return answer


async def stream_options_ignored(call: Call, forward: Forward) -> Answer:
    """`stream_options` is ignored: streams are padded with `obfuscation` whatever the request says."""
    if _is_create(call) and "stream_options" in call.body:
        call = replace(call, body={k: v for k, v in call.body.items() if k != "stream_options"})
    return await forward(call)


async def compaction_refused_as_input(call: Call, forward: Forward) -> Answer:
    """A create whose input holds a compaction item is refused (400 in a proper envelope)."""
    items = call.body.get("input") if _is_create(call) else None
    if isinstance(items, list) and any(isinstance(i, dict) and i.get("type") == "compaction" for i in items):
        return refused("Unknown item type 'compaction'.", "input")
    return await forward(call)


#: (breakage, scenario, how to make the breakage, the one check that must fail)
BROKEN: list[tuple[str, str, Callable[[], Breakage], str]] = [
    ("unknown-id-400", "error_not_found", lambda: unknown_id_is_400, "unknown_id_is_404"),
    ("temperature-99-accepted", "error_bad_request", lambda: out_of_range_temperature_accepted, "invalid_body_is_400"),
    ("cut-stream-completed", "incomplete_stream", lambda: cut_answer_completed, "max_output_tokens_gives_incomplete"),
    (
        "structured-not-json",
        "structured_output",
        lambda: structured_text("Tokyo has about 14 million people."),
        "structured_output_matches_schema",
    ),
    (
        "structured-wrong-type",
        "structured_output",
        lambda: structured_text('{"city": "Tokyo", "population": "many"}'),
        "structured_output_matches_schema",
    ),
    (
        "no-call-stream",
        "function_call_stream",
        lambda: calls_stripped("function_call"),
        "function_call_when_tool_required",
    ),
    (
        "no-call-json",
        "function_call_round_trip",
        lambda: calls_stripped("function_call"),
        "function_call_when_tool_required",
    ),
    (
        "no-custom-call",
        "custom_tool_stream",
        lambda: calls_stripped("custom_tool_call"),
        "custom_tool_call_when_required",
    ),
    ("no-message", "function_call_round_trip", lambda: function_output_unanswered, "function_call_output_answered"),
    ("retrieve-differs", "retrieve_and_items", lambda: retrieve_differs, "retrieved_response_equals_created"),
    ("deleted-served", "delete", deleted_still_served, "deleted_response_is_gone"),
    ("cancel-completed", "background_cancel", lambda: cancel_reports("completed"), "background_response_cancels"),
    ("cancel-ignored", "background_cancel", lambda: cancel_reports("in_progress"), "background_response_cancels"),
    (
        "stream-retrieve-differs",
        "streamed_response_stored",
        lambda: retrieve_differs,
        "retrieved_response_equals_created",
    ),
    ("store-false-kept", "unstored_response", lambda: store_false_ignored, "unstored_response_not_retrievable"),
    ("resume-as-json", "stream_resume", lambda: resume_as_json, "stream_resumes_after_sequence_number"),
    ("cursor-ignored", "input_items_pages", lambda: cursor_ignored, "input_items_paginate"),
    (
        "compaction-refused",
        "compact_and_continue",
        lambda: compaction_refused_as_input,
        "compacted_output_is_valid_input",
    ),
    ("padding-kept", "stream_without_obfuscation", lambda: stream_options_ignored, "obfuscation_can_be_turned_off"),
    ("no-more-pages", "input_items_pages", lambda: no_more_pages, "input_items_paginate"),
    ("resume-refused", "stream_resume", lambda: resume_unsupported, "stream_resumes_after_sequence_number"),
]


@pytest.mark.parametrize(("scenario", "make", "check"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_the_expectation_fails_when_the_server_breaks_it(
    proxy: Proxy, scenario: str, make: Callable[[], Breakage], check: str
) -> None:
    proxy.breakage = make()
    assert failures(proxy.url, [scenario]) == {scenario: {check}}


def test_the_faithful_proxy_changes_nothing(proxy: Proxy) -> None:
    scenarios = sorted({b[1] for b in BROKEN})
    assert failures(proxy.url, scenarios) == {s: set() for s in scenarios}


NOT_FOUND = {"error": {"message": "No response found.", "type": "invalid_request_error", "param": None, "code": None}}


async def nothing_stored(call: Call, forward: Forward) -> Answer:
    """Every stored response is forgotten at once: retrieving it or listing its items is a 404."""
    answer = await forward(call)
    if call.method == "GET" and "/responses/" in call.route and answer.status == 200:
        return replace(answer.with_json(NOT_FOUND), status=404)
    return answer


async def delete_fails(call: Call, forward: Forward) -> Answer:
    """The delete happens, but the provider answers it with a 500."""
    answer = await forward(call)
    if call.method == "DELETE":
        error = {"error": {**NOT_FOUND["error"], "message": "Internal error.", "type": "server_error"}}
        return replace(answer.with_json(error), status=500)
    return answer


async def output_null(call: Call, forward: Forward) -> Answer:
    """A created response comes back with `"output": null`."""
    answer = await forward(call)
    if _is_create(call) and answer.status == 200 and not answer.is_stream:
        return answer.with_json({**answer.json(), "output": None})
    return answer


@pytest.mark.parametrize(
    ("scenario", "breakage", "checks"),
    [
        ("retrieve_and_items", nothing_stored, {"stored_response_retrievable", "stored_input_items_listed"}),
        ("delete", delete_fails, {"delete_succeeds"}),
        ("streamed_response_stored", nothing_stored, {"stored_response_retrievable"}),
    ],
    ids=["nothing-stored", "delete-500", "streamed-nothing-stored"],
)
def test_storage_expectations_fail_when_nothing_is_kept(
    proxy: Proxy, scenario: str, breakage: Breakage, checks: set[str]
) -> None:
    proxy.breakage = breakage
    assert failures(proxy.url, [scenario]) == {scenario: checks}


def test_an_unreadable_answer_is_a_finding_not_a_crash(proxy: Proxy) -> None:
    proxy.breakage = output_null
    found = failures(proxy.url, ["function_call_round_trip", "text"])
    assert "function_call_when_tool_required" in found["function_call_round_trip"]
    assert "scenario_completes" not in found["function_call_round_trip"]
    assert "response_matches_schema" in found["text"]


def test_a_scenario_that_cannot_go_on_is_a_finding(proxy: Proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    from respkit.conformance.live import SCENARIOS, Conversation

    def reads_too_much(c: Conversation) -> None:
        exchange = c.create(input="hi")
        exchange.json()["no such field"]  # what a provider's odd answer can do to a scenario

    monkeypatch.setitem(SCENARIOS, "reads_too_much", reads_too_much)
    assert failures(proxy.url, ["reads_too_much"]) == {"reads_too_much": {"scenario_completes"}}


def test_a_resumed_stream_is_checked_as_the_continuation_of_the_original(proxy: Proxy) -> None:
    # starting over at 0 is caught twice: by the scenario, and by the engine reading the resumed events
    # after the original's first ones (sequence numbers go back); the original's frames are not reported again
    proxy.breakage = resume_from_the_start
    found = failures(proxy.url, ["stream_resume"])["stream_resume"]
    assert {"stream_resumes_after_sequence_number", "stream_sequence_numbers_increase"} <= found
    (result,) = run(proxy.url, ["stream_resume"], reasoning_model=None)
    resumed = [f for f in result.findings if f.check == "stream_sequence_numbers_increase"]
    assert resumed and all(f.event_index is not None and f.event_index >= 4 for f in resumed)
    assert all("starting_after=3" in f.reproduce for f in resumed)


async def background_refused(call: Call, forward: Forward) -> Answer:
    """Background responses are not supported: a 400 in a proper envelope."""
    if not (_is_create(call) and call.body.get("background")):
        return await forward(call)
    return refused("background is not supported.", "background")


def skipped(url: str, scenarios: list[str], reasoning_model: str | None = "o4-mini") -> dict[str, str]:
    """scenario -> why it was skipped ("" when it ran); none may fail."""
    results = run(url, scenarios, reasoning_model)
    assert not any(r.failed for r in results)
    return {r.recording.display.removeprefix("live: "): r.recording.skipped for r in results}


def test_a_scenario_that_cannot_do_its_job_is_skipped_not_passed(proxy: Proxy) -> None:
    assert skipped(proxy.url, ["reasoning_stream", "text"], reasoning_model=None) == {
        "reasoning_stream": "no reasoning model: name one with --reasoning-model, or under `models` in the profile",
        "text": "",
    }
    proxy.breakage = background_refused
    reasons = skipped(proxy.url, ["background_cancel", "stream_resume", "delete"])
    assert reasons == {
        "background_cancel": "POST /responses answered 400 without a response id",
        "stream_resume": "POST /responses answered 400 without a response id",
        "delete": "",
    }


def test_skipped_scenarios_are_said_in_the_console_and_the_reports(proxy: Proxy, tmp_path: Any) -> None:
    import subprocess
    import sys
    from xml.etree import ElementTree as ET

    proxy.breakage = background_refused
    reports = ["--junit-xml", str(tmp_path / "r.xml"), "--json", str(tmp_path / "r.json")]
    scenarios = ["--scenario", "background_cancel", "--scenario", "text"]
    command = [sys.executable, "-m", "respkit.conformance", "check", "--base-url", proxy.url, *scenarios, *reports]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, "OPENAI_API_KEY": KEY}
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "[skipped] background_cancel: POST /responses answered 400 without a response id" in result.stdout
    assert "2 live scenarios (1 skipped): 0 failed" in result.stdout
    (case,) = [c for c in ET.parse(tmp_path / "r.xml").iter("testcase") if c.get("name") == "live: background_cancel"]
    assert case.find("skipped") is not None
    report = json.loads((tmp_path / "r.json").read_text())
    assert [r.get("skipped", "") for r in report["recordings"]] == [
        "POST /responses answered 400 without a response id",
        "",
    ]


async def web_search_refused(call: Call, forward: Forward) -> Answer:
    """The web_search tool is not offered: a 400 in a proper envelope."""
    tools = call.body.get("tools") if _is_create(call) else None
    if isinstance(tools, list) and any(isinstance(t, dict) and t.get("type") == "web_search" for t in tools):
        return refused("Tool 'web_search' is not supported.", "tools")
    return await forward(call)


async def search_phases_swapped(call: Call, forward: Forward) -> Answer:
    """A web search call's `searching` comes after its `completed` (numbers still in order)."""
    answer = await forward(call)
    if not answer.is_stream:
        return answer
    events = [json.loads(f.data) for f in SseReader().feed(answer.body)]
    kinds = [e["type"] for e in events]
    if "response.web_search_call.searching" not in kinds:
        return answer
    a, b = kinds.index("response.web_search_call.searching"), kinds.index("response.web_search_call.completed")
    events[a], events[b] = {**events[b], "sequence_number": a}, {**events[a], "sequence_number": b}
    frames = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events]
    return replace(answer, body="".join(frames).encode())


def test_web_search_is_skipped_where_refused_and_its_phases_checked_where_served(proxy: Proxy) -> None:
    proxy.breakage = web_search_refused
    assert skipped(proxy.url, ["web_search_stream"]) == {"web_search_stream": "the web_search tool was refused (400)"}
    proxy.breakage = search_phases_swapped
    assert failures(proxy.url, ["web_search_stream"]) == {"web_search_stream": {"stream_tool_call_phases"}}
