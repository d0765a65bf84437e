"""A request's conversation as OpenAI checks it before answering: every tool output answers a call, every
call the client runs is answered, and `item_reference` items stand for the stored items they name.

OpenAI's bodies (none is in the corpus; quoted in public issue threads, each a 400 with `param: "input"` and
`code: null`): "No tool call found for function call output with call_id call_uelf..." (continuedev/continue
#10092, microsoft/vscode#320060) and "No tool output found for function call call_XXX." (tjardoo/openai-client
#124, router-for-me/CLIProxyAPI#2368)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from respkit.conformance.server.errors import ApiError, bad_request

Item = dict[str, Any]
#: each output item type, and the call it answers (with the words OpenAI's messages use for it)
OUTPUT_OF: dict[str, tuple[str, str]] = {
    "function_call_output": ("function_call", "function call"),
    "custom_tool_call_output": ("custom_tool_call", "custom tool call"),
    "computer_call_output": ("computer_call", "computer call"),
    "local_shell_call_output": ("local_shell_call", "local shell call"),
    "shell_call_output": ("shell_call", "shell call"),
    "apply_patch_call_output": ("apply_patch_call", "apply patch call"),
}
#: the calls the client runs, which must be answered before the conversation goes on
CLIENT_CALLS = {"function_call": "function call", "custom_tool_call": "custom tool call"}


def _call_ids(items: list[Item], types: set[str] | dict[str, Any]) -> set[Any]:
    return {item.get("call_id") for item in items if item.get("type") in types}


def check_pairs(history: list[Item], items: list[Item]) -> None:
    """A 400 for this request's first output that answers no call of the conversation, else for the
    conversation's first client call left without an output."""
    conversation = [*history, *items]
    calls = _call_ids(conversation, {call for call, _ in OUTPUT_OF.values()})
    for item in items:
        kind = item.get("type")
        if kind in OUTPUT_OF and item.get("call_id") not in calls:
            words = OUTPUT_OF[kind][1]
            raise bad_request(f"No tool call found for {words} output with call_id {item.get('call_id')}.", "input")
    answered = _call_ids(conversation, OUTPUT_OF)
    for item in conversation:
        if item.get("type") in CLIENT_CALLS and item.get("call_id") not in answered:
            raise bad_request(f"No tool output found for {CLIENT_CALLS[item['type']]} {item.get('call_id')}.", "input")


def is_reference(item: Item) -> bool:
    """An `item_reference` (its `type` may be left out: an item with an `id` and no `role` or `type`)."""
    kind = item.get("type")
    return kind == "item_reference" or (kind is None and "role" not in item and "id" in item)


def unknown_item(item_id: Any) -> ApiError:
    """No recorded OpenAI body; its words for a missing object, with the param of the pairing errors."""
    return bad_request(f"Item with id '{item_id}' not found.", "input")


Resolver = Callable[[Any], Item]
