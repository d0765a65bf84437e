"""The reference server's deterministic local model: no ML, the request alone decides the answer.

"The user text" is the text of the last `user` message of the request's own input. Rules, first match wins:

| trigger                                        | output                                                    |
|------------------------------------------------|-----------------------------------------------------------|
| user text contains `[fail]`                    | status `failed`, error `server_error`; a stream sends an  |
|                                                | `error` event, then `response.failed`                     |
| user text contains `[refuse]`                  | a message whose content is one `refusal` part             |
| the last input item is a `function_call_output`| text `The function NAME returned: OUTPUT`                 |
| (or a `custom_tool_call_output`)               |                                                           |
| `tools` has a `function` or `custom` tool and  | a call of the chosen (or first) one: a `function_call`    |
| `tool_choice` is not `none`                    | with arguments built from `parameters`, or a              |
|                                                | `custom_tool_call` whose input is the user text; both in  |
|                                                | 8-character deltas                                        |
| `tools` has a `web_search` tool (any version)  | a `web_search_call` for the user text (in_progress,       |
| or a `file_search` tool, and `tool_choice` is  | searching, completed), or a `file_search_call`, then a    |
| not `none`                                     | message citing one source (`url_citation` or              |
|                                                | `file_citation`; `annotation.added` in streams)           |
| `text.format` is `json_schema`                 | JSON valid against the given schema (every property set,  |
|                                                | strings from the user text, numbers at their minimum)     |
| `text.format` is `json_object`                 | `{"echo": USER TEXT}`                                     |
| user text contains `[long]` or `[long:N]`      | N tokens (default 2000, at most 100000), one delta each   |
| anything else                                  | echo `You said: USER TEXT`, plus                          |
|                                                | `(turn K; you first said: FIRST)` in a continued one      |

Independent of the rules above:

- model `o<digit>...` or `gpt-5...`: a `reasoning` item with one summary part comes first (summary events in streams).
- a token is a word with the whitespace before it; each token is one delta, and counts as one output token
  (reasoning summary tokens count as reasoning tokens). Input tokens: the tokens of every input text and
  of `instructions`, including a continued conversation.
- `max_output_tokens` smaller than the output: the output is cut there, status `incomplete`, reason
  `max_output_tokens`, the cut item `incomplete`.
- `[hold]` in the user text with `background: true`: the response stays `in_progress` until cancelled
  (or 60 s pass); other background responses are `queued` for 0.05 s and `in_progress` for 0.1 s.
- `background: true` goes `queued` -> `in_progress` -> a final status, and can be cancelled until then.
- `previous_response_id` continues a stored conversation (its input and output come before the new input);
  `store: false` responses are never stored, so retrieving one is a 404.
- `include`: `message.output_text.logprobs` gives every text token a (made-up, deterministic) logprob, with
  `top_logprobs` candidates, the chosen token first, on deltas, done events and parts;
  `reasoning.encrypted_content` gives finished reasoning items an opaque `encrypted_content`.
- streams pad each delta event with `obfuscation`, as OpenAI does (delta and padding hold 16 characters
  between them), unless `stream_options.include_obfuscation` (or the retrieve query's
  `include_obfuscation`) is false.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from respkit.conformance.server.instances import instance
from respkit.conformance.server.text import chunks, count_tokens, texts_of, tokens

PartKind = Literal[
    "reasoning", "message", "refusal", "function_call", "custom_tool_call", "web_search_call", "file_search_call",
    # hosted tools (conformance/server/tools_hosted.py) and raw reasoning (conformance/server/modalities.py)
    "code_interpreter_call", "image_generation_call", "mcp_list_tools", "mcp_call", "mcp_approval_request",
    "shell_call", "shell_call_output", "apply_patch_call", "reasoning_text",
]  # fmt: skip
CALL_OUTPUTS = {"function_call_output": "function_call", "custom_tool_call_output": "custom_tool_call"}
WEB_SEARCH_TOOLS = ("web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11")
SOURCE_TITLE, SOURCE_URL = "respkit reference search", "https://example.com/respkit-reference-search"
SOURCE_FILE, SOURCE_FILE_ID = "respkit-reference.txt", "file-respkitreference"
LONG_DEFAULT, LONG_MAX, ARGUMENT_CHUNK = 2000, 100_000, 8
REFUSAL_TEXT = "I'm sorry, but I can't help with that."
_LONG = re.compile(r"\[long(?::(\d+))?\]")


@dataclass(frozen=True)
class Part:
    """One output item as a list of deltas: `"".join(pieces)` is its text (or arguments)."""

    kind: PartKind
    pieces: tuple[str, ...]
    name: str = ""  # a function call's function; a web search's query
    complete: bool = True
    annotations: tuple[dict[str, Any], ...] = ()
    #: what a hosted tool's item holds besides its streamed text (conformance/server/tools_hosted.py)
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True)
class Plan:
    """What the model answers: output parts, final status, and how to behave in the background."""

    parts: tuple[Part, ...]
    status: Literal["completed", "incomplete", "failed"] = "completed"
    incomplete_reason: str | None = None
    error: dict[str, str] | None = None
    hold: bool = False
    input_tokens: int = 0
    usage_tokens: dict[str, int] = field(default_factory=dict)


def is_reasoning_model(model: str) -> bool:
    return bool(re.match(r"o\d", model)) or model.startswith("gpt-5")


def user_text(items: list[dict[str, Any]]) -> str:
    for item in reversed(items):
        if item.get("type", "message") == "message" and item.get("role") == "user":
            return " ".join(texts_of(item.get("content", "")))
    return ""


def _callable_tools(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The function and custom tools the model may call, in the request's order (`tool_choice` can name one)."""
    tools = [t for t in request.get("tools") or [] if t.get("type") in ("function", "custom")]
    choice = request.get("tool_choice")
    if choice == "none":
        return []
    if isinstance(choice, dict) and choice.get("type") in ("function", "custom"):
        return [t for t in tools if t.get("name") == choice.get("name")] or tools
    return tools


def _tool_result(history: list[dict[str, Any]], items: list[dict[str, Any]]) -> Part | None:
    if not items or items[-1].get("type") not in CALL_OUTPUTS:
        return None
    last = items[-1]
    kind = CALL_OUTPUTS[last["type"]]
    calls = {i.get("call_id"): i.get("name", "") for i in [*history, *items] if i.get("type") == kind}
    output = " ".join(texts_of(last.get("output", "")))
    return Part("message", tuple(tokens(f"The function {calls.get(last.get('call_id'), 'call')} returned: {output}")))


def _call(tool: dict[str, Any], text: str) -> Part:
    """A call of `tool`: a function's arguments built from its parameters, a custom tool's input the user text."""
    if tool.get("type") == "custom":
        return Part("custom_tool_call", tuple(chunks(text, ARGUMENT_CHUNK)), name=tool["name"])
    arguments = json.dumps(instance(tool.get("parameters") or {"type": "object"}, text), separators=(",", ":"))
    return Part("function_call", tuple(chunks(arguments, ARGUMENT_CHUNK)), name=tool["name"])


def _formatted(fmt: dict[str, Any], text: str) -> Part | None:
    if fmt.get("type") == "json_schema":
        body = json.dumps(instance(fmt.get("schema", {}), text))
    elif fmt.get("type") == "json_object":
        body = json.dumps({"echo": text})
    else:
        return None
    return Part("message", tuple(tokens(body)))


def _long(text: str) -> Part | None:
    found = _LONG.search(text)
    if not found:
        return None
    count = min(int(found.group(1) or LONG_DEFAULT), LONG_MAX)
    return Part("message", tuple(f"{' ' if i else ''}token{i}" for i in range(max(count, 1))))


def _echo(text: str, history: list[dict[str, Any]]) -> Part:
    answer = f"You said: {text}"
    earlier = [user_text([i]) for i in history if i.get("role") == "user"]
    if earlier:
        answer += f" (turn {len(earlier) + 1}; you first said: {earlier[0]})"
    return Part("message", tuple(tokens(answer)))


def _search(request: dict[str, Any], text: str) -> tuple[Part, ...]:
    """A web search or file search tool in `tools`: a search for the user text, then an answer citing its
    one source (a `url_citation` of the source's title, or a `file_citation` after the file's name)."""
    kinds = {t.get("type") for t in request.get("tools") or []}
    if request.get("tool_choice") == "none" or not (kinds & {*WEB_SEARCH_TOOLS, "file_search"}):
        return ()
    if kinds & set(WEB_SEARCH_TOOLS):
        answer = f"Found for '{text}' in {SOURCE_TITLE}."
        start = answer.index(SOURCE_TITLE)
        end = start + len(SOURCE_TITLE)
        citation = {"type": "url_citation", "url": SOURCE_URL, "title": SOURCE_TITLE, "start_index": start,
                    "end_index": end}  # fmt: skip
        call = Part("web_search_call", (), name=text)
    else:
        answer = f"Found for '{text}' in {SOURCE_FILE}."
        end = answer.index(SOURCE_FILE) + len(SOURCE_FILE)
        citation = {"type": "file_citation", "file_id": SOURCE_FILE_ID, "filename": SOURCE_FILE, "index": end}
        call = Part("file_search_call", (), name=text)
    return call, Part("message", tuple(tokens(answer)), annotations=(citation,))


def cited_up_to(annotation: dict[str, Any]) -> int:
    """Where the text an annotation cites ends (a url citation's `end_index`, a file citation's `index`)."""
    return int(annotation.get("end_index", annotation.get("index", 0)))


def _answer(request: dict[str, Any], history: list[dict[str, Any]], items: list[dict[str, Any]]) -> tuple[Part, ...]:
    text = user_text(items)
    if "[refuse]" in text:
        return (Part("refusal", tuple(tokens(REFUSAL_TEXT))),)
    result = _tool_result(history, items)
    if result:
        return (result,)
    tools = _callable_tools(request)
    if tools:
        return (_call(tools[0], text),)
    from respkit.conformance.server import tools_hosted  # it builds on Part, defined here

    hosted = tools_hosted.answer(request, text)
    if hosted:
        return hosted
    searched = _search(request, text)
    if searched:
        return searched
    fmt = (request.get("text") or {}).get("format") or {}
    return (_formatted(fmt, text) or _long(text) or _echo(text, history),)


def _reasoning(text: str) -> Part:
    return Part("reasoning", tuple(tokens(f"Reading the request and answering it: {text[:80]}")))


def _apply_budget(plan: Plan, budget: int | None) -> Plan:
    total = sum(len(p.pieces) for p in plan.parts)
    if budget is None or total <= budget:
        return plan
    kept: list[Part] = []
    for part in plan.parts:
        if budget <= 0:
            break
        cut = len(part.pieces) > budget
        pieces = part.pieces[:budget]
        cited = tuple(a for a in part.annotations if cited_up_to(a) <= len("".join(pieces)))
        kept.append(replace(part, pieces=pieces, complete=not cut, annotations=cited))
        budget -= len(part.pieces)
    return replace(plan, parts=tuple(kept), status="incomplete", incomplete_reason="max_output_tokens")


def _usage(plan: Plan, input_tokens: int) -> Plan:
    reasoning = sum(len(p.pieces) for p in plan.parts if p.kind in ("reasoning", "reasoning_text"))
    output = sum(len(p.pieces) for p in plan.parts)
    usage = {"input": input_tokens, "output": output, "reasoning": reasoning}
    return replace(plan, input_tokens=input_tokens, usage_tokens=usage)


def input_tokens(request: dict[str, Any], history: list[dict[str, Any]], items: list[dict[str, Any]]) -> int:
    instructions = request.get("instructions")
    extra = count_tokens(instructions) if isinstance(instructions, str) else 0
    return extra + sum(count_tokens(t) for t in texts_of([*history, *items]))


def respond(request: dict[str, Any], history: list[dict[str, Any]], items: list[dict[str, Any]]) -> Plan:
    """The model's answer to `items` (this request's input) after `history` (a continued conversation)."""
    text = user_text(items)
    used = input_tokens(request, history, items)
    if "[fail]" in text:
        error = {"code": "server_error", "message": "The model failed to generate a response (trigger: [fail])."}
        return _usage(Plan((), status="failed", error=error), used)
    parts = list(_answer(request, history, items))
    if is_reasoning_model(str(request.get("model", ""))):
        parts.insert(0, _reasoning(text))
    from respkit.conformance.server import modalities  # it builds on Part, defined here

    if modalities.reasons_in_text(str(request.get("model", ""))):
        parts.insert(0, modalities.raw_reasoning(text))
    plan = Plan(tuple(parts), hold="[hold]" in text)
    return _usage(_apply_budget(plan, request.get("max_output_tokens")), used)
