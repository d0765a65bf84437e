"""Every stream event family of the spec, from the reference server's hosted tools, refusals, raw reasoning,
audio and failures: read by the official `openai` SDK and by the generated client, valid under the
published spec (save the errata the server's selfcheck names), and each family's selftest operators
caught by the check that holds the property they break."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from respkit.conformance.engine import check_stream
from respkit.conformance.findings import Source
from respkit.conformance.live import Session, run_scenarios
from respkit.conformance.mutate import kill, mutants
from respkit.conformance.profiles import ProfileError, load_profile
from respkit.conformance.replay import check_recording, load_recording
from respkit.conformance.schema import default_validators
from respkit.conformance.server import run_server
from respkit.generated import ResponsesClient, UnknownEvent

KEY = "sk-respkit-events-test"
MCP = {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example.com/mcp"}
NO_APPROVAL = {**MCP, "require_approval": "never"}

#: name -> (request, the output item types of the final response, event types the stream must carry)
BEHAVIOURS: dict[str, tuple[dict[str, Any], list[str], set[str]]] = {
    "refusal": (
        {"model": "gpt-4.1-mini", "input": "[refuse] do something bad"},
        ["message"],
        {"response.refusal.delta", "response.refusal.done"},
    ),
    "file_search": (
        {"model": "gpt-4.1-mini", "input": "what is in the file?",
         "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]},
        ["file_search_call", "message"],
        {"response.file_search_call.in_progress", "response.file_search_call.searching",
         "response.file_search_call.completed"},
    ),
    "code_interpreter": (
        {"model": "gpt-4.1-mini", "input": "print hello", "include": ["code_interpreter_call.outputs"],
         "tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]},
        ["code_interpreter_call", "message"],
        {"response.code_interpreter_call.in_progress", "response.code_interpreter_call_code.delta",
         "response.code_interpreter_call_code.done", "response.code_interpreter_call.interpreting",
         "response.code_interpreter_call.completed"},
    ),
    "image_generation": (
        {"model": "gpt-4.1-mini", "input": "a red circle",
         "tools": [{"type": "image_generation", "partial_images": 2}]},
        ["image_generation_call", "message"],
        {"response.image_generation_call.in_progress", "response.image_generation_call.generating",
         "response.image_generation_call.partial_image", "response.image_generation_call.completed"},
    ),
    "mcp_call": (
        {"model": "gpt-4.1-mini", "input": "ask the docs", "tools": [NO_APPROVAL]},
        ["mcp_list_tools", "mcp_call", "message"],
        {"response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed", "response.mcp_call.in_progress",
         "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done", "response.mcp_call.completed"},
    ),
    "mcp_approval": (
        {"model": "gpt-4.1-mini", "input": "ask the docs", "tools": [MCP]},
        ["mcp_list_tools", "mcp_approval_request"],
        {"response.mcp_list_tools.completed"},
    ),
    "mcp_call_failed": (
        {"model": "gpt-4.1-mini", "input": "[tool_error] ask", "tools": [NO_APPROVAL]},
        ["mcp_list_tools", "mcp_call", "message"],
        {"response.mcp_call.failed"},
    ),
    "mcp_list_tools_failed": (
        {"model": "gpt-4.1-mini", "input": "ask",
         "tools": [{**NO_APPROVAL, "server_url": "https://mcp.respkit.invalid/mcp"}]},
        ["mcp_list_tools", "message"],
        {"response.mcp_list_tools.in_progress", "response.mcp_list_tools.failed"},
    ),
    "shell_hosted": (
        {"model": "gpt-4.1-mini", "input": "say hi",
         "tools": [{"type": "shell", "environment": {"type": "container_auto"}}]},
        ["shell_call", "shell_call_output", "message"],
        {"response.shell_call_command.added", "response.shell_call_command.delta", "response.shell_call_command.done",
         "response.shell_call_output_content.delta", "response.shell_call_output_content.done"},
    ),
    "shell_local": (
        {"model": "gpt-4.1-mini", "input": "say hi", "tools": [{"type": "shell"}]},
        ["shell_call"],
        {"response.shell_call_command.done"},
    ),
    "apply_patch": (
        {"model": "gpt-4.1-mini", "input": "write notes", "tools": [{"type": "apply_patch"}]},
        ["apply_patch_call"],
        {"response.output_item.done"},
    ),
    "raw_reasoning": (
        {"model": "gpt-oss-20b", "input": "what is 2 + 2?"},
        ["reasoning", "message"],
        {"response.reasoning_text.delta", "response.reasoning_text.done"},
    ),
    "audio": (
        {"model": "gpt-4o-audio-preview", "input": "say hello"},
        ["message"],
        {"response.audio.delta", "response.audio.done", "response.audio.transcript.delta",
         "response.audio.transcript.done"},
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with run_server(api_keys={KEY}) as base_url:
        yield base_url


def _sse(url: str, body: dict[str, Any]) -> bytes:
    answer = httpx.post(f"{url}/responses", json={**body, "stream": True}, headers={"authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200, answer.text
    return answer.content


@pytest.fixture
def sdk(url: str) -> Iterator[openai.OpenAI]:
    """The official client, closed after the test (an open pool's sockets warn when collected, elsewhere)."""
    with openai.OpenAI(base_url=url, api_key=KEY, max_retries=0) as client:
        yield client


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_the_official_sdk_reads_each_behaviour(sdk: openai.OpenAI, name: str) -> None:
    body, items, wanted = BEHAVIOURS[name]
    client = sdk
    events = list(client.responses.create(stream=True, **body))
    types = {e.type for e in events}
    assert wanted <= types, wanted - types
    final = events[-1]
    assert final.type == "response.completed"
    assert [item.type for item in final.response.output] == items
    with client.responses.stream(**body) as stream:  # the SDK's accumulating helper builds the same response
        helped = stream.get_final_response()
    assert [item.type for item in helped.output] == items


def test_the_sdk_sees_what_each_item_holds(sdk: openai.OpenAI) -> None:
    client = sdk
    code = client.responses.create(**BEHAVIOURS["code_interpreter"][0]).output[0]
    assert code.type == "code_interpreter_call" and code.outputs and code.outputs[0].type == "logs"
    assert code.outputs[0].logs == "print hello\n"
    call = client.responses.create(**BEHAVIOURS["mcp_call_failed"][0]).output[1]
    assert call.type == "mcp_call" and call.status == "failed" and call.error is not None
    reasoning = client.responses.create(**BEHAVIOURS["raw_reasoning"][0]).output[0]
    assert reasoning.type == "reasoning" and reasoning.content and reasoning.content[0].type == "reasoning_text"
    shell = client.responses.create(**BEHAVIOURS["shell_hosted"][0]).output
    assert shell[1].call_id == shell[0].call_id and shell[1].output[0].stdout == "say hi\n"


def test_a_failed_stream_raises_in_the_sdk(sdk: openai.OpenAI) -> None:
    client = sdk
    with pytest.raises(openai.APIError, match="trigger: \\[fail\\]"):
        list(client.responses.create(model="gpt-4.1-mini", input="[fail] hi", stream=True))


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_the_generated_client_streams_each_behaviour(url: str, name: str) -> None:
    body, items, wanted = BEHAVIOURS[name]
    with ResponsesClient(base_url=url, api_key=KEY, max_retries=0) as client:
        stream = client.responses.create(stream=True, **body)
        events = list(stream)
        final = stream.get_final_response()
    assert not [e for e in events if isinstance(e, UnknownEvent)]
    assert wanted <= {e.type for e in events}
    assert [item.type for item in final.output] == items


#: what the published spec refuses in the server's answers, as OpenAI sends them (the errata of
#: conformance.server.selfcheck): `null` for `user`, and for `usage` until a response ends
NULLED = ("/user", "/usage")


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_every_event_validates_under_strict(url: str, name: str) -> None:
    source = Source(f"server: {name}", "createResponse", "")
    found = check_stream([_sse(url, BEHAVIOURS[name][0])], content_type="text/event-stream",
                         profile=load_profile("strict"), source=source)  # fmt: skip
    failed = [f for f in found if f.fails]
    assert all(f.check == "event_matches_schema" and f.pointer.endswith(NULLED) for f in failed), failed
    assert not [f for f in found if f.fails and f.check != "event_matches_schema"]


def test_the_behaviours_cover_every_event_type_of_these_families() -> None:
    seen = set().union(*(wanted for _, _, wanted in BEHAVIOURS.values()))
    tools = {t for t in default_validators().event_types if t.startswith(("response.audio", "response.mcp",
             "response.code_interpreter", "response.image_generation", "response.shell", "response.reasoning_text",
             "response.refusal", "response.file_search"))}  # fmt: skip
    assert tools and tools <= seen, tools - seen


@pytest.mark.parametrize(
    ("operator", "name", "check"),
    [
        ("drop_family_done", "code_interpreter", "stream_parts_done_before_item_done"),
        ("drop_family_done", "audio", "stream_response_values_done"),
        ("corrupt_family_delta", "mcp_call", "stream_deltas_match_done"),
        ("corrupt_family_delta", "shell_hosted", "stream_deltas_match_done"),
        ("corrupt_family_delta", "raw_reasoning", "stream_deltas_match_done"),
        ("drop_tool_phase", "image_generation", "stream_tool_call_phases"),
        ("tool_completed_early", "mcp_call", "stream_call_ends_after_its_values"),
        ("tool_completed_early", "code_interpreter", "stream_call_ends_after_its_values"),
        ("drop_value_opener", "shell_hosted", "stream_value_added_before_deltas"),
        ("delta_disagrees", "audio", "event_base64_decodes"),
    ],
)
def test_each_family_operator_is_caught_by_its_own_check(
    url: str, tmp_path: Path, operator: str, name: str, check: str
) -> None:
    original = tmp_path / f"{name}.sse"
    original.write_bytes(_sse(url, BEHAVIOURS[name][0]))
    rec = load_recording(original, "openai")
    assert not check_recording(rec).failed
    made = [m for m in mutants(rec) if m.operator == operator]
    assert made, f"{operator} made no mutant of {name}"
    caught = set()
    for mutant in made:
        mutated = tmp_path / "mutant" / original.name
        mutated.parent.mkdir(exist_ok=True)
        mutated.write_bytes(mutant.body)
        caught |= {f.check for f in check_recording(load_recording(mutated, "openai")).findings if f.fails}
    assert check in caught, caught


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_every_operator_kills_every_mutant_of_each_behaviour(url: str, tmp_path: Path, name: str) -> None:
    original = tmp_path / f"{name}.sse"
    original.write_bytes(_sse(url, BEHAVIOURS[name][0]))
    rec = load_recording(original, "openai")
    work = tmp_path / "work"
    work.mkdir()
    survivors = [m.operator for m in mutants(rec) if not kill(rec, m, work)]
    assert survivors == []


def test_a_tool_the_profile_says_is_lacking_is_not_asked(url: str, tmp_path: Path) -> None:
    mine = tmp_path / "acme.yaml"
    mine.write_text("name: acme\nlacks_tools: [code_interpreter, web_search]\n", encoding="utf-8")
    with Session(url, KEY, "OPENAI_API_KEY") as session:
        names = ["code_interpreter_stream", "web_search_stream", "shell_stream"]
        results = run_scenarios(session, load_profile(str(mine)), "gpt-4.1-mini", None, names)
        sent = {e.scenario for e in session.exchanges}
    skipped = {r.recording.display: r.recording.skipped for r in results}
    said = "the acme profile says the provider lacks the code_interpreter tool"
    assert skipped["live: code_interpreter_stream"] == said
    assert skipped["live: web_search_stream"].endswith("lacks the web_search tool")
    assert sent == {"shell_stream"} and not skipped["live: shell_stream"]


def test_an_unknown_tool_in_lacks_tools_is_one_line(tmp_path: Path) -> None:
    mine = tmp_path / "acme.yaml"
    mine.write_text("name: acme\nlacks_tools: [teleport]\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"acme.yaml:2: at /lacks_tools/0: expected one of file_search"):
        load_profile(str(mine))
