"""Every recording in the shared corpus reads into the generated models (one case per file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import generated
from generated import models
from tests.paths import corpus_files


def _payloads(text: str) -> list[str]:
    return [
        line[5:].strip()
        for line in text.splitlines()
        if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]")
    ]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recording_reads_into_the_models(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".error.json"):
        parsed = generated.parse_error(text)
        assert isinstance(parsed, models.ErrorResponse), parsed
        assert parsed.error.message
    elif path.suffix == ".json":
        response = models.Response.model_validate_json(text)
        assert response.id == json.loads(text)["id"]
    else:
        payloads = _payloads(text)
        assert payloads
        for payload in payloads:
            event = generated.parse_event(payload)
            assert not isinstance(event, generated.UnknownEvent), event.type
            assert event.type == json.loads(payload)["type"]


def test_unknown_event_type_keeps_its_raw_data() -> None:
    event = generated.parse_event('{"type": "response.vendor_thing.delta", "delta": "x", "extra": [1, 2]}')
    assert isinstance(event, generated.UnknownEvent)
    assert event.raw == {"type": "response.vendor_thing.delta", "delta": "x", "extra": [1, 2]}


def test_unknown_fields_are_kept_on_known_models() -> None:
    azure = next(p for p in corpus_files() if p.name == "text.json" and p.parent.name == "azure")
    response = models.Response.model_validate_json(azure.read_text())
    assert response.model_extra is not None and "content_filters" in response.model_extra


def test_a_non_openai_error_envelope_is_told_apart() -> None:
    acedata = {"success": False, "error": {"code": "token_mismatched", "message": "bad token"}, "trace_id": "t"}
    result = generated.parse_error(json.dumps(acedata))
    assert isinstance(result, generated.NotAnErrorEnvelope)
    assert "not an OpenAI error envelope" in str(result)
    assert result.raw == acedata
    assert isinstance(generated.parse_error("<html>502</html>"), generated.NotAnErrorEnvelope)


def test_drift_fields_are_optional_for_readers() -> None:
    usage = {
        "input_tokens": 1,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 1,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 2,
    }
    parsed = models.ResponseUsage.model_validate(usage)
    assert parsed.input_tokens_details is not None
    assert parsed.input_tokens_details.cache_write_tokens is None
