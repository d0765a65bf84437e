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
    return _Explaining(bundle.request_validator(schema_name).schema)


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


def _reported(error: ValidationError) -> ApiError:
    param = json_pointer_to_param(list(error.absolute_path))
    ranged = _out_of_range(error, param) if param else None
    detail = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return ranged or bad_request(f"Invalid value for '{param or 'body'}': {detail}", param=param, code="invalid_value")


def check_body(body: dict[str, Any], schema_name: str) -> None:
    """A 400 in OpenAI's words for an unknown top-level parameter, else for the body's first schema error."""
    known = bundle.top_level_properties(schema_name)
    unknown = next((name for name in body if name not in known), None)
    if unknown is not None:
        raise unknown_parameter(unknown)
    error = first_error(body, schema_name)
    if error is not None:
        raise _reported(error)
