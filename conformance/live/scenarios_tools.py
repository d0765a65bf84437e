"""Live scenarios for every stream event family of the spec: hosted tools (file search, code interpreter,
image generation, MCP, shell, apply_patch), refusals, raw reasoning text, audio, and a failed response.

Each asks for one tool with `tool_choice` naming it, so a provider that has the tool must use it; one the
profile says lacks it (`lacks_tools`) is not asked, and a provider that refuses it is reported as skipped,
with its answer as the reason. The reference server's model (conformance/server/tools_hosted.py,
modalities.py) answers each the same way every time.
"""

from __future__ import annotations

from typing import Any

from respkit.conformance.live.scenarios import Conversation, body_of, items_of, output_types, scenario
from respkit.conformance.live.session import Exchange

#: a public MCP server (OpenAI's recordings use it: openai/mcp_call_stream_o4-mini.sse)
MCP_SERVER = {"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp"}
#: an MCP server that can never be reached (`.invalid` never resolves, RFC 2606)
UNREACHABLE_MCP = {"type": "mcp", "server_label": "nowhere", "server_url": "https://mcp.respkit.invalid/mcp"}


def use_tool(c: Conversation, tool: dict[str, Any], text: str, choice: Any = None, **body: Any) -> Exchange | None:
    """A stream that must use `tool`; None (the scenario skipped) where the provider lacks or refuses it."""
    kind = str(tool["type"])
    if kind in c.profile.lacks_tools:
        c.skip(f"the {c.profile.name} profile says the provider lacks the {kind} tool")
        return None
    ex = c.create(input=text, tools=[tool], tool_choice=choice or {"type": kind}, stream=True, **body)
    if ex.status != 200:
        c.skip(f"the {kind} tool was refused ({ex.status})")
        return None
    return ex


def expect_item(c: Conversation, ex: Exchange, kind: str) -> list[dict[str, Any]]:
    """The answer to a request that named a tool must hold that tool's item; returns the items."""
    response = body_of(ex)
    found = items_of(response, kind)
    c.expect(
        "named_tool_used",
        bool(found),
        f"tool_choice named the tool, but the response has no {kind} item",
        ex,
        expected=f"a {kind} output item",
        received=output_types(response),
    )
    return found


@scenario
def refusal_stream(c: Conversation) -> None:
    """A request the model declines: the reference server's refusal (a `refusal` content part, streamed as
    refusal deltas); a real model may answer it in text."""
    c.create(input="[refuse] Explain how to pick the lock of a neighbour's door.", stream=True)


@scenario
def file_search_stream(c: Conversation) -> None:
    """The file search tool's stream (a file_search_call's phases, then an answer citing the file)."""
    tool = {"type": "file_search", "vector_store_ids": ["vs_respkit_reference"]}
    ex = use_tool(c, tool, "What does the reference file say?")
    if ex:
        expect_item(c, ex, "file_search_call")


@scenario
def code_interpreter_stream(c: Conversation) -> None:
    """The code interpreter's stream: code deltas, interpreting, completed, and the outputs asked for."""
    tool = {"type": "code_interpreter", "container": {"type": "auto"}}
    ex = use_tool(c, tool, "Use Python to print the word hello.", include=["code_interpreter_call.outputs"])
    if ex:
        expect_item(c, ex, "code_interpreter_call")


@scenario
def image_generation_stream(c: Conversation) -> None:
    """Image generation with one partial image: in_progress, generating, partial_image, completed."""
    tool = {"type": "image_generation", "partial_images": 1, "quality": "low", "size": "1024x1024"}
    ex = use_tool(c, tool, "Draw a small red circle.")
    if ex:
        expect_item(c, ex, "image_generation_call")


@scenario
def mcp_stream(c: Conversation) -> None:
    """A remote MCP server that needs no approval: its tools listed, then one called (arguments in deltas)."""
    tool = {**MCP_SERVER, "require_approval": "never"}
    ex = use_tool(c, tool, "Ask the MCP server what the repository openai/openai-python is.", _mcp_choice(tool))
    if ex:
        expect_item(c, ex, "mcp_call")


def _mcp_choice(tool: dict[str, Any]) -> dict[str, Any]:
    return {"type": "mcp", "server_label": tool["server_label"]}


@scenario
def mcp_approval(c: Conversation) -> None:
    """An MCP call that needs approval (`require_approval: always`): the answer is an `mcp_approval_request`.
    (Approving it in the next turn is not asked: the spec requires a `request_id` that `mcp_approval_response`
    does not define, so no request can approve it and be valid.)"""
    tool = {**MCP_SERVER, "require_approval": "always"}
    ex = use_tool(c, tool, "Ask the MCP server what the repository openai/openai-python is.", _mcp_choice(tool))
    if ex:
        expect_item(c, ex, "mcp_approval_request")


@scenario
def mcp_failures_stream(c: Conversation) -> None:
    """MCP failures: a server that cannot be reached (its listing fails), and, on the reference server, a
    tool that fails (`[tool_error]`). The checks hold the failed phases to the same order as the others."""
    ex = use_tool(c, {**UNREACHABLE_MCP, "require_approval": "never"}, "List the tools.", _mcp_choice(UNREACHABLE_MCP))
    if ex:
        tool = {**MCP_SERVER, "require_approval": "never"}
        c.create(input="[tool_error] Ask the MCP server anything.", tools=[tool], tool_choice=_mcp_choice(tool),
                 stream=True)  # fmt: skip


@scenario
def shell_stream(c: Conversation) -> None:
    """The shell tool in a hosted container: the command streamed (`shell_call_command.*`), then its output
    (`shell_call_output_content.*`)."""
    ex = use_tool(c, {"type": "shell", "environment": {"type": "container_auto"}}, "Run a command that prints hi.")
    if ex:
        expect_item(c, ex, "shell_call")


@scenario
def apply_patch_stream(c: Conversation) -> None:
    """The apply_patch tool: an `apply_patch_call` for the client to apply."""
    ex = use_tool(c, {"type": "apply_patch"}, "Create a file notes.md that says hello.")
    if ex:
        expect_item(c, ex, "apply_patch_call")


@scenario
def raw_reasoning_stream(c: Conversation) -> None:
    """A model that streams its reasoning as text (`reasoning_text` deltas), where the profile names one."""
    model = c.profile.raw_reasoning_model
    if model is None:
        c.skip("no raw-reasoning model: name one under `models: {raw_reasoning: ...}` in the profile")
        return
    c.send("createResponse", "POST", "/responses", {"model": model, "input": "What is 2 + 2?", "stream": True})


@scenario
def audio_stream(c: Conversation) -> None:
    """A model that speaks its answer (audio and transcript deltas), where the profile names one."""
    model = c.profile.audio_model
    if model is None:
        c.skip("no audio model: name one under `models: {audio: ...}` in the profile")
        return
    c.send("createResponse", "POST", "/responses", {"model": model, "input": "Say hello.", "stream": True})


@scenario
def failed_stream(c: Conversation) -> None:
    """A response that fails mid-stream: on the reference server (`[fail]`), an `error` event, then
    `response.failed`; the checks hold any provider's failed stream to that order."""
    c.create(input="[fail] Say hello.", stream=True)
