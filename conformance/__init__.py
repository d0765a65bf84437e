"""respkit's conformance engine. Feed it traffic, recorded or live, and read findings:

    from conformance import check_stream, check_json_body, check_error, Source

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
    "check_stream": "conformance.engine",
    "check_json_body": "conformance.engine",
    "check_error": "conformance.engine",
    "Finding": "conformance.findings",
    "Severity": "conformance.findings",
    "Source": "conformance.findings",
    "Profile": "conformance.profiles",
    "load_profile": "conformance.profiles",
    "replay": "conformance.replay",
    "Result": "conformance.replay",
    "SseReader": "conformance.sse",
    "Frame": "conformance.sse",
    "SpecValidators": "conformance.schema",
    "REGISTRY": "conformance.checks",
    "check": "conformance.checks",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    if name == "REGISTRY":
        import_module("conformance.checks").load_all()
    return value
