"""Every recording in the shared corpus reads into the generated models (one case per file), and each reader
entry of spec/readers/provider-omissions.yaml is needed by the recordings it cites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from respkit import generated
from respkit.conformance.operations import infer
from respkit.generated import models
from respkit.generator.closure import dangling_refs
from respkit.generator.overlay import apply_entries
from respkit.generator.spec_view import Operation, operations
from tests.paths import CORPUS, REPO, corpus_files
from tests.schema_tools import BundleValidator

BUNDLE: dict[str, Any] = json.loads((REPO / "generated" / "schema.json").read_text(encoding="utf-8"))
#: the spec's operations by operationId: the client method of each, and the schema of its 2xx body
OPERATIONS: dict[str, Operation] = {op.operation_id: op for op in operations(BUNDLE)}


def _payloads(text: str) -> list[str]:
    return [
        line[5:].strip()
        for line in text.splitlines()
        if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]")
    ]


def _client_reads(operation: Operation, body: str) -> object:
    """What the generated client parses a 200 answer of `operation` carrying `body` into (its raw method's
    `.parse()`: the operation's model, or None for an operation whose answer the spec gives no body)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})

    with (
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
        generated.ResponsesClient(api_key="test", base_url="http://recorded.invalid/v1", http_client=http) as client,
    ):
        resource: Any = client.responses.with_raw_response
        for part in operation.namespace.split(".")[1:]:
            resource = getattr(resource, part)
        arguments = {p.python_name: "resp_recorded" for p in operation.path_params}
        arguments.update({f.python_name: "recorded" for f in operation.body_fields if f.required})
        parsed: object = getattr(resource, operation.method_name)(**arguments).parse()
        return parsed


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recording_reads_into_the_models(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".error.json"):
        body: Any = json.loads(text)
        parsed = generated.parse_error(text)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):  # OpenAI's envelope
            assert isinstance(parsed, models.ErrorResponse), parsed
            assert parsed.error.message
        else:  # another provider's shape (xAI: `{"code": ..., "error": "<string>"}`): told apart, body kept
            assert isinstance(parsed, generated.NotAnErrorEnvelope), parsed
            assert parsed.raw == body
    elif path.suffix == ".json":
        # the operation the body answers, from its `object` tag as the spec's 2xx schemas fix them (an
        # operation the spec gives no body schema, deleteResponse, by the members of its documented example)
        body = json.loads(text)
        match = infer(body)
        assert match.operation is not None, f"the body could answer any of {match.candidates}"
        operation = OPERATIONS[match.operation]
        read = _client_reads(operation, text)
        if operation.response_schema is None:
            assert read is None, read  # what the client returns for it (delete): the body is not read
        else:
            assert type(read) is getattr(models, operation.response_schema), type(read)
            assert getattr(read, "object", None) == body.get("object")
            assert getattr(read, "id", None) == body.get("id")
    else:
        payloads = _payloads(text)
        assert payloads
        for payload in payloads:
            value = json.loads(payload)
            event = generated.parse_event(payload)
            if value["type"] in generated.EVENT_TYPES:  # a type the spec defines reads as its own model
                assert type(event).__name__ == generated.EVENT_TYPES[value["type"]], type(event)
            else:  # one it does not (Bedrock's response.reasoning_part.*) keeps its raw data
                assert isinstance(event, generated.UnknownEvent), event
                assert event.raw == value
            assert event.type == value["type"]


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


def test_a_providers_own_tool_reads_and_known_tools_stay_strict() -> None:
    x_search = {"type": "x_search", "allowed_x_handles": ["xai"], "enable_image_understanding": True}
    tools = models.ResponseProperties.model_validate({"tools": [x_search]}).tools
    assert tools is not None and tools[0].type == "x_search"
    assert tools[0].model_extra == {"allowed_x_handles": ["xai"], "enable_image_understanding": True}
    with pytest.raises(ValueError, match="function"):  # a known tag is still read only as its own model
        models.ResponseProperties.model_validate({"tools": [{"type": "function"}]})


# --- each reader entry is needed --------------------------------------------------------------------

READERS_FILE = "spec/readers/provider-omissions.yaml"
ERRATA: list[dict[str, Any]] = BUNDLE["x-respkit-errata"]
READERS: list[dict[str, Any]] = BUNDLE["x-respkit-readers"]
OMISSIONS = [i for i, entry in enumerate(READERS) if entry["file"] == READERS_FILE]


def _evidence(name: str) -> Path:
    """A cited recording: in the shared corpus, else in the repository (the bundled seed recordings)."""
    path = CORPUS / name if (CORPUS / name).is_file() else REPO / name
    if not CORPUS.is_dir() and not path.is_file():
        pytest.skip(f"needs ../shared: {CORPUS} is absent")
    assert path.is_file(), f"evidence {name} is neither in the corpus nor in the repository"
    return path


def test_every_reader_entry_applies_to_this_spec() -> None:
    # an entry this spec version gives no target is moot (left out of the bundle): drop it or fix its target
    actions = yaml.safe_load((REPO / READERS_FILE).read_text(encoding="utf-8"))["actions"]
    assert [READERS[i]["target"] for i in OMISSIONS] == [a["target"] for a in actions]


@pytest.mark.parametrize("index", OMISSIONS, ids=lambda i: f"{READERS[i]['op']}:{READERS[i]['target']}")
def test_each_reader_entry_is_needed_by_its_evidence(index: int) -> None:
    # judged as the tests judge errata (a plain JSON Schema validator over the bundle): with every erratum
    # and reader entry each cited recording reads, without this entry it does not
    entry = READERS[index]
    assert entry["why"] and entry["evidence"], entry
    with_all = BundleValidator(apply_entries(BUNDLE, [*ERRATA, *READERS]), snapshots=False)
    without = apply_entries(BUNDLE, [*ERRATA, *(e for i, e in enumerate(READERS) if i != index)])
    dangling = {ref for ref, _ in dangling_refs(without)}
    if dangling:  # a schema another entry refers to (a variant it adds to a union): needed by that entry
        assert dangling == {"#" + entry["target"]}, dangling
        assert any("#" + entry["target"] in json.dumps(e["value"]) for i, e in enumerate(READERS) if i != index), (
            "nothing else refers to it"
        )
    validator = None if dangling else BundleValidator(without, snapshots=False)
    for name in entry["evidence"]:
        path = _evidence(name)
        assert list(with_all.errors(path)) == [], f"{name} does not read even with every reader entry"
        if validator is not None:
            assert any(validator.errors(path)), f"{name} reads without the reader entry on {entry['target']}"
