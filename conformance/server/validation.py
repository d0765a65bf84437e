"""Request bodies against the spec's schema, at a cost bounded by the body's size.

jsonschema-rs says yes or no quickly; only a no is explained, in Python, and the explanation stops at
the first few errors: `anyOf` and `oneOf` keep a few errors per branch (jsonschema keeps all of them:
100,000 bad items made 24 GB of errors), and `items` asks jsonschema-rs which items are valid, so
that only a bad one is walked in Python (99,999 good items before it took 17 s)."""

from __future__ import annotations

import reprlib
from collections.abc import Iterator
from functools import cache
from itertools import islice
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from respkit.conformance.server import bundle
from respkit.conformance.server.errors import ApiError, bad_request, json_pointer_to_param, unknown_parameter

#: Errors `best_match` ranks to choose the one reported (the first ones a depth-first walk meets)
MAX_ERRORS = 4
#: Errors each branch of an `anyOf` or `oneOf` gives to explain why no branch matched
BRANCH_ERRORS = 2
_ITEMS = Draft202012Validator.VALIDATORS["items"]
_BOUNDS = {"maximum": ("above maximum", "<=", "above_max"), "minimum": ("below minimum", ">=", "below_min")}

Errors = Iterator[ValidationError]
#: The validator a keyword function is given (jsonschema's typing lacks the `descend` keywords use)
Walker = Any


def _branch_errors(validator: Walker, instance: Any, subschema: Any, index: int) -> list[ValidationError]:
    return list(islice(validator.descend(instance, subschema, schema_path=index), BRANCH_ERRORS))


def _none_matched(instance: Any, errors: list[ValidationError]) -> ValidationError:
    return ValidationError(f"{reprlib.repr(instance)} is not valid under any of the given schemas", context=errors)


def _any_of(validator: Walker, any_of: list[Any], instance: Any, schema: Any) -> Errors:
    errors: list[ValidationError] = []
    for index, subschema in enumerate(any_of):
        found = _branch_errors(validator, instance, subschema, index)
        if not found:
            return
        errors += found
    yield _none_matched(instance, errors)


def _one_of(validator: Walker, one_of: list[Any], instance: Any, schema: Any) -> Errors:
    errors: list[ValidationError] = []
    for index, subschema in enumerate(one_of):
        found = _branch_errors(validator, instance, subschema, index)
        if not found:
            if any(validator.evolve(schema=other).is_valid(instance) for other in one_of[index + 1 :]):
                yield ValidationError(f"{reprlib.repr(instance)} is valid under more than one of the given schemas")
            return
        errors += found
    yield _none_matched(instance, errors)


def _items(validator: Walker, items: Any, instance: Any, schema: Any) -> Errors:
    if not isinstance(items, dict) or not validator.is_type(instance, "array"):
        yield from _ITEMS(validator, items, instance, schema)
        return
    fast = bundle.fast_subschema_validator(items)
    for index in range(len(schema.get("prefixItems", [])), len(instance)):
        if not fast.is_valid(instance[index]):
            yield from validator.descend(instance[index], items, path=index)


_Explaining: type[Draft202012Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"anyOf": _any_of, "oneOf": _one_of, "items": _items}
)


@cache
def _explaining(schema_name: str) -> Draft202012Validator:
    checked = bundle.request_validator(schema_name)
    return _Explaining(checked.schema, format_checker=checked.format_checker)


def first_error(body: Any, schema_name: str) -> ValidationError | None:
    """The error to report for `body` against the request schema `schema_name` (None: it is valid)."""
    if bundle.fast_request_validator(schema_name).is_valid(body):
        return None
    error: ValidationError | None = best_match(islice(_explaining(schema_name).iter_errors(body), MAX_ERRORS))
    return error


def _out_of_range(error: ValidationError, param: str) -> ApiError | None:
    """OpenAI's words for a number past a bound: "Invalid 'temperature': decimal below minimum value.
    Expected a value >= 0, but got -1 instead." (code `decimal_below_min_value`)."""
    bound = _BOUNDS.get(str(error.validator))
    if bound is None:
        return None
    words, sign, code = bound
    kind = "integer" if isinstance(error.schema, dict) and error.schema.get("type") == "integer" else "decimal"
    message = f"Invalid '{param}': {kind} {words} value. Expected a value {sign} {error.validator_value}, "
    return bad_request(message + f"but got {error.instance!r} instead.", param=param, code=f"{kind}_{code}_value")


def _branch(error: ValidationError) -> Any:
    return error.relative_schema_path[0] if error.relative_schema_path else None


def _discriminated(error: ValidationError) -> ValidationError:
    """For a union nothing matched, the error of the branch the instance's `type` names: a `code_interpreter`
    tool without `container` is missing `container`, not "valid under none of" every tool."""
    while error.context:
        wrong = {_branch(e) for e in error.context if list(e.relative_path) == ["type"]}
        named = [e for e in error.context if _branch(e) not in wrong]
        if not named:
            break
        error = max(named, key=lambda e: len(e.relative_path))
    return error


def _missing(error: ValidationError, path: list[Any]) -> ApiError:
    """OpenAI's words for a missing member: "Missing required parameter: 'tools[0].container'."."""
    given: Any = error.instance
    required: Any = error.validator_value
    name = next((n for n in required if n not in given), "?")
    param = json_pointer_to_param([*path, name])
    return bad_request(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def _extra(error: ValidationError, path: list[Any]) -> ApiError:
    allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    given: Any = error.instance
    name = next((n for n in given if n not in allowed), "?")
    return unknown_parameter(json_pointer_to_param([*path, name]) or name)


def _reported(error: ValidationError) -> ApiError:
    error = _discriminated(error)
    path = list(error.absolute_path)
    param = json_pointer_to_param(path)
    if error.validator == "required" and isinstance(error.instance, dict):
        return _missing(error, path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return _extra(error, path)
    if error.validator == "format":  # no OpenAI body for it was recorded: its wording for a bad value
        message = f"Invalid '{param}': Expected a valid URL, but got a value with an invalid format."
        return bad_request(message, param=param, code="invalid_value")
    ranged = _out_of_range(error, param) if param else None
    detail = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return ranged or bad_request(f"Invalid value for '{param or 'body'}': {detail}", param=param, code="invalid_value")


#: The content parts an assistant message of a request may hold (OpenAI's message when it refuses another)
ASSISTANT_PARTS = ("output_text", "refusal")


def _is_assistant(item: Any) -> bool:
    return isinstance(item, dict) and item.get("role") == "assistant" and item.get("type", "message") == "message"


def _check_assistant_parts(items: list[Any]) -> None:
    """OpenAI (since 2025-10) refuses an assistant message with an `input_*` part: "Invalid value:
    'input_text'. Supported values are: 'output_text' and 'refusal'." (hermes-agent#15687)."""
    for i, item in enumerate(items):
        parts = item.get("content") if _is_assistant(item) else None
        for j, part in enumerate(parts if isinstance(parts, list) else []):
            kind = part.get("type") if isinstance(part, dict) else None
            if isinstance(kind, str) and kind not in ASSISTANT_PARTS:
                supported = " and ".join(f"'{k}'" for k in ASSISTANT_PARTS)
                raise bad_request(
                    f"Invalid value: '{kind}'. Supported values are: {supported}.",
                    param=f"input[{i}].content[{j}]",
                    code="invalid_value",
                )


def _as_output_part(part: Any) -> Any:
    if isinstance(part, dict) and part.get("type") == "output_text":
        return {"annotations": [], "logprobs": [], **part}
    return part


def _as_output_message(item: Any) -> Any:
    """An assistant message with `output_text` parts as the spec's output message (an `id`, a `status`, each
    part's `annotations`): OpenAI takes it without them, as its conversation-state guide sends it back."""
    if not _is_assistant(item) or not isinstance(item.get("content"), list):
        return item
    content = [_as_output_part(p) for p in item["content"]]
    return {"type": "message", "id": "msg_", "status": "completed", **item, "content": content}


def _as_validated(body: dict[str, Any]) -> dict[str, Any]:
    items = body.get("input")
    if not isinstance(items, list) or not any(map(_is_assistant, items)):
        return body
    _check_assistant_parts(items)
    return {**body, "input": [_as_output_message(item) for item in items]}


def check_body(body: dict[str, Any], schema_name: str) -> None:
    """A 400 in OpenAI's words for an unknown top-level parameter, an assistant message with input parts,
    else for the body's first schema error."""
    known = bundle.top_level_properties(schema_name)
    unknown = next((name for name in body if name not in known), None)
    if unknown is not None:
        raise unknown_parameter(unknown)
    error = first_error(_as_validated(body), schema_name)
    if error is not None:
        raise _reported(error)
