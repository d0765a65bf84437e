"""respkit's conformance engine. Feed it traffic, recorded or live, and read findings:

    from respkit.conformance import check_stream, check_json_body, check_error, Source

    source = Source("POST /responses", reproduce="curl ... -H 'Authorization: Bearer $OPENAI_API_KEY'")
    findings = check_stream(response.iter_bytes(), content_type=response.headers.get("content-type"),
                            profile="openai", source=source)
    findings = check_json_body(body_bytes, content_type="application/json", profile="azure")
    findings = check_error(status, headers, body_bytes, content_type=..., profile="deepseek")

Each `Finding` names its check (the function's name), where it happened (source, event index,
sequence_number, JSON Pointer), expected and received values, severity (failure, deviation, drift, undocumented)
and how to reproduce it. `replay(paths)` checks recordings; `load_profile(name)` reads
spec/profiles/NAME.yaml; `REGISTRY` lists the checks. Names are imported on first use, so that
`respkit --help` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "check_stream": "respkit.conformance.engine",
    "check_json_body": "respkit.conformance.engine",
    "check_error": "respkit.conformance.engine",
    "Finding": "respkit.conformance.findings",
    "Severity": "respkit.conformance.findings",
    "Source": "respkit.conformance.findings",
    "Profile": "respkit.conformance.profiles",
    "load_profile": "respkit.conformance.profiles",
    "replay": "respkit.conformance.replay",
    "Result": "respkit.conformance.replay",
    "SseReader": "respkit.conformance.sse",
    "Frame": "respkit.conformance.sse",
    "SpecValidators": "respkit.conformance.schema",
    "REGISTRY": "respkit.conformance.checks",
    "check": "respkit.conformance.checks",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'respkit.conformance' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    if name == "REGISTRY":
        import_module("respkit.conformance.checks").load_all()
    return value
