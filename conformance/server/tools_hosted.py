"""The reference model's hosted tools: what a `code_interpreter`, `image_generation`, `mcp`, `shell` or
`apply_patch` tool in the request makes it answer, each output item as OpenAI shapes it, and each item's
stream events in the order OpenAI's recordings show them (the shared corpus:
openai/code_interpreter_image_stream.sse, image_generation_stream.sse, mcp_call_stream_o4-mini.sse,
mcp_approval_request_stream.sse, shell_skills_stream.sse,
shell_call_stream.sse, apply_patch_call.json, mcp_connector_call_failed.json).

The first hosted tool of `tools` is used (or the one `tool_choice` names), unless `tool_choice` is `none`:

| tool                                | output                                                          |
|-------------------------------------|-----------------------------------------------------------------|
| `code_interpreter`                  | a `code_interpreter_call` of Python printing the user text      |
|                                     | (code in deltas, interpreting, completed), then a message       |
| `image_generation`                  | an `image_generation_call` (in_progress, generating, the tool's |
|                                     | `partial_images` partial images, completed), then a message     |
| `mcp`, `require_approval: never`    | `mcp_list_tools` of the server's one tool `echo`, then an       |
|                                     | `mcp_call` of it (arguments in deltas), then a message          |
| `mcp`, approval required (default)  | `mcp_list_tools`, then an `mcp_approval_request` for `echo`     |
| `mcp` with a `server_url` host in   | `mcp_list_tools` failed (the RFC 2606 name never resolves), then |
| `.invalid`                          | a message saying so                                             |
| `mcp`, user text has `[tool_error]` | the `mcp_call` fails (`http_error` 500), then a message         |
| `shell` in a container environment  | a `shell_call` (each command in deltas), its `shell_call_output` |
| (`container_auto`, a reference)     | (output in deltas), then a message                              |
| `shell`, local environment or none  | a `shell_call` the client runs                                  |
| `apply_patch`                       | an `apply_patch_call` creating `notes.md` with the user text    |

A hosted part carries what its item needs in `Part.detail`; its `pieces` are what it streams (code,
arguments, commands), which count as output tokens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from respkit.conformance.server.bundle import bundle
from respkit.conformance.server.ids import new_id
from respkit.conformance.server.modalities import reasoning_text_events
from respkit.conformance.server.model import ARGUMENT_CHUNK, Part
from respkit.conformance.server.text import chunks, tokens
from respkit.generator.spec_view import stream_event_types

Event = dict[str, Any]
Where = dict[str, Any]

#: a 1x1 transparent PNG: the image every image_generation_call makes (partial images too)
PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
MCP_TOOL = {
    "name": "echo",
    "description": "Returns its text.",
    "input_schema": {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    },
    "annotations": {"read_only": True},
}
MCP_ERROR = {"type": "http_error", "code": 500, "message": "An unknown error occurred while executing the tool."}
HOSTED_TOOLS = ("code_interpreter", "image_generation", "mcp", "shell", "apply_patch")


def _chosen(request: dict[str, Any]) -> dict[str, Any] | None:
    choice = request.get("tool_choice")
    if choice == "none":
        return None
    hosted = [t for t in request.get("tools") or [] if isinstance(t, dict) and t.get("type") in HOSTED_TOOLS]
    named = choice.get("type") if isinstance(choice, dict) else None
    return next((t for t in hosted if t.get("type") == named), hosted[0] if hosted else None)


def _message(text: str) -> Part:
    return Part("message", tuple(tokens(text)))


def answer(request: dict[str, Any], text: str) -> tuple[Part, ...]:
    """The parts a hosted tool makes of the request (none: no hosted tool is in play)."""
    tool = _chosen(request)
    return _ANSWERS[tool["type"]](tool, text) if tool is not None else ()


def _code_interpreter(tool: dict[str, Any], text: str) -> tuple[Part, ...]:
    code = f"text = {text!r}\nprint(text)"
    container = tool.get("container")
    container_id = container if isinstance(container, str) else new_id("cntr")
    call = Part("code_interpreter_call", tuple(tokens(code)), detail={"container_id": container_id, "logs": text})
    return call, _message(f"The code printed: {text}")


def _image_generation(tool: dict[str, Any], text: str) -> tuple[Part, ...]:
    partials = tool.get("partial_images")
    detail = {
        "partial_images": partials if isinstance(partials, int) else 0,
        "revised_prompt": f"An illustration of: {text}",
        "output_format": tool.get("output_format") or "png",
        **{key: _resolved(tool.get(key), chosen) for key, chosen in _AUTO_CHOSEN.items()},
    }
    return Part("image_generation_call", (), detail=detail), _message("Here is the image.")


#: what `auto` settles on, as an image_generation_call reports it (openai/image_generation_stream.sse)
_AUTO_CHOSEN = {"quality": "low", "background": "opaque", "size": "1024x1024"}


def _resolved(asked: Any, chosen: str) -> str:
    return chosen if asked in (None, "auto") else str(asked)


def _mcp_listing(tool: dict[str, Any]) -> tuple[Part, bool]:
    """The server's tool listing, and whether it could be listed (a host under `.invalid` never resolves)."""
    host = urlsplit(str(tool.get("server_url") or "")).hostname or ""
    failed = host == "invalid" or host.endswith(".invalid")
    detail: dict[str, Any] = {"server_label": tool.get("server_label", "")}
    if failed:
        label = detail["server_label"]
        detail["error"] = f"Error retrieving tool list from MCP server: '{label}'. Http status code: 424"
    return Part("mcp_list_tools", (), detail=detail), not failed


def _needs_approval(tool: dict[str, Any]) -> bool:
    """`require_approval` defaults to `always`; a filter needs approval unless it lists `echo` under `never`."""
    wanted = tool.get("require_approval", "always")
    if wanted is None or isinstance(wanted, str):
        return wanted != "never"
    never = wanted.get("never") or {}
    return MCP_TOOL["name"] not in (never.get("tool_names") or [])


def _mcp_call(tool: dict[str, Any], text: str, approval_request_id: str | None) -> tuple[Part, ...]:
    arguments = json.dumps({"text": text}, separators=(",", ":"))
    failed = "[tool_error]" in text
    detail = {"server_label": tool.get("server_label", ""), "approval_request_id": approval_request_id,
              "output": None if failed else text, "error": mcp_error() if failed else None}  # fmt: skip
    call = Part("mcp_call", tuple(chunks(arguments, ARGUMENT_CHUNK)), name=str(MCP_TOOL["name"]), detail=detail)
    said = "The MCP tool failed." if failed else f"The MCP tool answered: {text}"
    return call, _message(said)


def _mcp(tool: dict[str, Any], text: str) -> tuple[Part, ...]:
    listing, listed = _mcp_listing(tool)
    if not listed:
        return listing, _message(f"The MCP server '{tool.get('server_label', '')}' could not be reached.")
    if _needs_approval(tool):
        arguments = json.dumps({"text": text}, separators=(",", ":"))
        detail = {"server_label": tool.get("server_label", ""), "arguments": arguments}
        return listing, Part("mcp_approval_request", (), name=str(MCP_TOOL["name"]), detail=detail)
    return (listing, *_mcp_call(tool, text, None))


def _hosted_environment(tool: dict[str, Any]) -> dict[str, Any] | None:
    """The container a `shell` tool runs in (as the item names it), or None for the client's own machine."""
    environment = tool.get("environment") or {}
    if environment.get("type") == "container_reference":
        return {"type": "container_reference", "container_id": environment.get("container_id", "")}
    if environment.get("type") == "container_auto":
        return {"type": "container_reference", "container_id": new_id("cntr")}
    return None


def _shell(tool: dict[str, Any], text: str) -> tuple[Part, ...]:
    command = f"echo {json.dumps(text)}"
    environment = _hosted_environment(tool)
    call_id = new_id("call")
    detail: dict[str, Any] = {"commands": [command], "environment": environment, "call_id": call_id}
    call = Part("shell_call", tuple(tokens(command)), detail=detail)
    if environment is None:
        return (call,)
    output = Part("shell_call_output", (), detail={"call_id": call_id, "stdout": [f"{text}\n"]})
    return call, output, _message(f"The command printed: {text}")


def _apply_patch(tool: dict[str, Any], text: str) -> tuple[Part, ...]:
    diff = "".join(f"+{line}\n" for line in ["# Notes", "", text])
    return (Part("apply_patch_call", (), detail={"path": "notes.md", "diff": diff}),)


_ANSWERS: dict[str, Callable[[dict[str, Any], str], tuple[Part, ...]]] = {
    "code_interpreter": _code_interpreter,
    "image_generation": _image_generation,
    "mcp": _mcp,
    "shell": _shell,
    "apply_patch": _apply_patch,
}


# ---- output items -------------------------------------------------------------------------------------


def _status(part: Part, done: bool, failed: bool = False) -> str:
    if not done:
        return "in_progress"
    return "failed" if failed else "completed" if part.complete else "incomplete"


def _code_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    logs = [{"type": "logs", "logs": f"{part.detail['logs']}\n"}] if done and outputs else None
    return {"id": item_id, "type": "code_interpreter_call", "status": _status(part, done),
            "code": part.text if done else "", "container_id": part.detail["container_id"],
            "outputs": logs if done else []}  # fmt: skip


def _image_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    if not done:
        return {"id": item_id, "type": "image_generation_call", "status": "in_progress", "result": None}
    shown = {k: part.detail[k] for k in ("background", "output_format", "quality", "revised_prompt", "size")}
    return {"id": item_id, "type": "image_generation_call", "status": "completed", "result": PIXEL_PNG, **shown}


def _listing_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    item = {"id": item_id, "type": "mcp_list_tools", "server_label": part.detail["server_label"], "tools": []}
    if done and "error" in part.detail:
        item["error"] = part.detail["error"]
    elif done:
        item["tools"] = [MCP_TOOL]
    return item


def _mcp_call_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    failed = part.detail["error"] is not None
    return {"id": item_id, "type": "mcp_call", "status": _status(part, done, failed),
            "approval_request_id": part.detail["approval_request_id"], "arguments": part.text if done else "",
            "error": part.detail["error"] if done else None, "name": part.name,
            "output": part.detail["output"] if done else None, "server_label": part.detail["server_label"]}  # fmt: skip


def _approval_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    return {"id": item_id, "type": "mcp_approval_request", "arguments": part.detail["arguments"],
            "name": part.name, "server_label": part.detail["server_label"]}  # fmt: skip


def _shell_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    action = {"commands": part.detail["commands"] if done else [], "max_output_length": None, "timeout_ms": None}
    return {"id": item_id, "type": "shell_call", "status": _status(part, done), "action": action,
            "call_id": part.detail["call_id"], "environment": part.detail["environment"]}  # fmt: skip


def _shell_output(part: Part) -> list[dict[str, Any]]:
    return [{"outcome": {"type": "exit", "exit_code": 0}, "stderr": "", "stdout": out} for out in part.detail["stdout"]]


def _shell_output_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    """As OpenAI announces it: already `completed`, its output filled in (openai/shell_skills_stream.sse)."""
    return {"id": item_id, "type": "shell_call_output", "status": "completed", "call_id": part.detail["call_id"],
            "max_output_length": None, "output": _shell_output(part)}  # fmt: skip


def _patch_item(part: Part, item_id: str, call_id: str, done: bool, outputs: bool) -> dict[str, Any]:
    operation = {"type": "create_file", "diff": part.detail["diff"], "path": part.detail["path"]}
    return {"id": item_id, "type": "apply_patch_call", "status": "completed" if done else "in_progress",
            "call_id": call_id, "operation": operation}  # fmt: skip


ItemMaker = Callable[[Part, str, str, bool, bool], dict[str, Any]]
ITEMS: dict[str, ItemMaker] = {
    "code_interpreter_call": _code_item,
    "image_generation_call": _image_item,
    "mcp_list_tools": _listing_item,
    "mcp_call": _mcp_call_item,
    "mcp_approval_request": _approval_item,
    "shell_call": _shell_item,
    "shell_call_output": _shell_output_item,
    "apply_patch_call": _patch_item,
}
ID_PREFIXES = {
    "code_interpreter_call": "ci",
    "image_generation_call": "ig",
    "mcp_list_tools": "mcpl",
    "mcp_call": "mcp",
    "mcp_approval_request": "mcpr",
    "shell_call": "sh",
    "shell_call_output": "sho",
    "apply_patch_call": "apc",
}


# ---- stream events, between the item's `output_item.added` and `output_item.done` -------------------------


def _code_events(part: Part, where: Where) -> Iterator[Event]:
    yield {"type": "response.code_interpreter_call.in_progress", **where}
    for piece in part.pieces:
        yield {"type": "response.code_interpreter_call_code.delta", **where, "delta": piece}
    yield {"type": "response.code_interpreter_call_code.done", **where, "code": part.text}
    yield {"type": "response.code_interpreter_call.interpreting", **where}
    yield {"type": "response.code_interpreter_call.completed", **where}


def _image_events(part: Part, where: Where) -> Iterator[Event]:
    yield {"type": "response.image_generation_call.in_progress", **where}
    yield {"type": "response.image_generation_call.generating", **where}
    shown = {k: part.detail[k] for k in ("background", "output_format", "quality", "size")}
    for index in range(part.detail["partial_images"]):
        yield {"type": "response.image_generation_call.partial_image", **where, "partial_image_index": index,
               "partial_image_b64": PIXEL_PNG, **shown}  # fmt: skip
    yield {"type": "response.image_generation_call.completed", **where}


def _listing_events(part: Part, where: Where) -> Iterator[Event]:
    yield {"type": "response.mcp_list_tools.in_progress", **where}
    ending = "failed" if "error" in part.detail else "completed"
    yield {"type": f"response.mcp_list_tools.{ending}", **where}


def _mcp_call_events(part: Part, where: Where) -> Iterator[Event]:
    yield {"type": "response.mcp_call.in_progress", **where}
    for piece in part.pieces:
        yield {"type": "response.mcp_call_arguments.delta", **where, "delta": piece}
    yield {"type": "response.mcp_call_arguments.done", **where, "arguments": part.text}
    ending = "failed" if part.detail["error"] is not None else "completed"
    yield {"type": f"response.mcp_call.{ending}", **where}


def _no_events(part: Part, where: Where) -> Iterator[Event]:
    return iter(())


def _shell_events(part: Part, where: Where) -> Iterator[Event]:
    """A command's events carry no `item_id` (openai/shell_call_stream.sse); a command is one or more deltas."""
    at = {"output_index": where["output_index"], "command_index": 0}
    yield {"type": "response.shell_call_command.added", **at, "command": ""}
    for piece in part.pieces:
        yield {"type": "response.shell_call_command.delta", **at, "delta": piece}
    yield {"type": "response.shell_call_command.done", **at, "command": part.text}


def _shell_output_events(part: Part, where: Where) -> Iterator[Event]:
    for index, (stdout, content) in enumerate(zip(part.detail["stdout"], _shell_output(part), strict=True)):
        at = {**where, "command_index": index}
        yield {"type": "response.shell_call_output_content.delta", **at, "delta": {"stdout": stdout}}
        yield {"type": "response.shell_call_output_content.done", **at, "output": [content]}


EventMaker = Callable[[Part, Where], Iterator[Event]]
EVENTS: dict[str, EventMaker] = {
    "code_interpreter_call": _code_events,
    "image_generation_call": _image_events,
    "mcp_list_tools": _listing_events,
    "mcp_call": _mcp_call_events,
    "mcp_approval_request": _no_events,
    "shell_call": _shell_events,
    "shell_call_output": _shell_output_events,
    "apply_patch_call": _no_events,
}


@cache
def mcp_error() -> dict[str, Any] | str:
    """A failed MCP call's `error` as the pinned spec has it: OpenAI's object where the spec defines one
    (`MCPToolCallError`), its message where an older spec has a string."""
    schemas = bundle().get("components", {}).get("schemas", {})
    return MCP_ERROR if "MCPToolCallError" in schemas else str(MCP_ERROR["message"])


@cache
def defined_events() -> frozenset[str]:
    """The stream event types of the spec the server was generated from (an older spec has no
    `response.shell_call_command.*`): the server emits no other, an item's `output_item.done` says it all."""
    return frozenset(stream_event_types(bundle()))


def events_of(part: Part, where: Where) -> Iterator[Event]:
    """A hosted tool's (or raw reasoning's) events inside its item, those the spec defines."""
    made = EVENTS.get(part.kind, reasoning_text_events)(part, where)
    return (event for event in made if event["type"] in defined_events())
