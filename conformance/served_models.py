"""The models the reference server answers for: one list, shown by `respkit serve --help` and used by its
request checks (kept out of `conformance.server` so that the command line can show it without starting one).

OpenAI answers an unknown model with a 400 (`model_not_found`, param `model`; the corpus's
openai/error_400_model_not_found.error.json); the reference server does the same for any name outside
these families. A family stands for its dated and sized variants: `gpt-4.1` for `gpt-4.1-mini` and
`gpt-4.1-2025-04-14`, `gpt-5` for `gpt-5.5`, `gpt-5-nano-2025-08-07`, `gpt-5.1-codex-max`."""

from __future__ import annotations

import re

#: OpenAI's Responses model families, newest first
MODEL_FAMILIES = (
    "gpt-5",
    "gpt-4.1",
    "gpt-4o",
    "gpt-4",
    "o4-mini",
    "o3",
    "o1",
    "gpt-oss",
    "codex-mini",
    "computer-use-preview",
)
_KNOWN = re.compile(rf"(?:{'|'.join(map(re.escape, MODEL_FAMILIES))})(?:[-.][a-z0-9][a-z0-9.-]*)?")


def is_served(model: str) -> bool:
    """`model` is a family of `MODEL_FAMILIES` or one of its variants (the family, then `-` or `.` and more)."""
    return _KNOWN.fullmatch(model) is not None


def described() -> str:
    """The families in a sentence, for `--help`."""
    return (
        "models: "
        + ", ".join(MODEL_FAMILIES)
        + " and their variants (e.g. gpt-4.1-mini, gpt-5.5, o4-mini-2025-04-16); any other is a 400 model_not_found"
    )
