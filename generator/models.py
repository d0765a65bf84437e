"""Pydantic v2 models of the closure, through datamodel-code-generator."""

from __future__ import annotations

import json
import warnings
from typing import Any

# The options are part of the generated output's contract: change one and regenerate.
CODEGEN_OPTIONS: dict[str, Any] = {
    "input_file_type": "openapi",
    "output_model_type": "pydantic_v2.BaseModel",
    "target_python_version": "3.11",
    # a single-valued enum is a Literal tag; multi-valued enums are Literals too, so that no
    # numbered Enum classes (Type2 ... Type202) appear and names stay stable as the spec grows
    "enum_field_as_literal": "all",
    # inline schemas are named after the path of their parents (ResponseErrorEventError), never with
    # collision counters (Error1, Output1) that shift when the spec adds a schema
    "naming_strategy": "parent-prefixed",
    "use_annotated": True,
    "field_constraints": True,
    "use_union_operator": True,
    "use_standard_collections": True,
    "use_double_quotes": True,
    "disable_timestamp": True,
    "collapse_root_models": True,
    # readers keep what they do not know: unknown fields land in `model_extra`
    "extra_fields": "allow",
    "formatters": ["builtin"],
    "openapi_scopes": ["schemas"],
}


# The one mypy error code the models module turns off, and why: an `allOf` that narrows an inherited
# property (ComputerCallOutputItemParam narrows `status`, Response narrows `top_logprobs`) becomes a
# subclass redefining the field with a narrower type. Pydantic validates that as intended; mypy calls
# every such redefinition an incompatible override. Everything else in the module is checked strictly.
MYPY_DIRECTIVE = '# mypy: disable-error-code="assignment"'


def render_models(document: dict[str, Any], header: str) -> str:
    """Generate the models module's source for an OpenAPI document."""
    import datamodel_code_generator as dcg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = dcg.generate(
            json.dumps(document, sort_keys=True), custom_file_header=f"{header}\n{MYPY_DIRECTIVE}", **CODEGEN_OPTIONS
        )
    assert isinstance(code, str)
    return code if code.endswith("\n") else code + "\n"


def codegen_version() -> str:
    from importlib.metadata import version

    return version("datamodel-code-generator")
