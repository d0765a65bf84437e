"""`respkit spec diff`: the two shared spec versions item by item, and who each kind of change breaks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from respkit.conformance.cli import main
from respkit.generator import source
from respkit.generator.diff import Change, SpecDiff
from respkit.generator.diff_input import compare_sources
from tests.paths import PREVIOUS_SPEC, REPO, SPEC

# --- the expected sets, computed from the raw document without the differ ----------------------------


def raw(path: Path) -> dict[str, Any]:
    """The spec as parsed (libyaml, or the kept parse of the same bytes), before closure and overlays."""
    return source.parse(str(path), path.read_bytes())


def property_names(schemas: dict[str, Any], name: str) -> set[str]:
    """Every property of a schema, through allOf members and the schemas they reference."""
    node = schemas[name]
    names = set(node.get("properties", {}))
    for member in node.get("allOf", []):
        if "$ref" in member:
            names |= property_names(schemas, member["$ref"].rsplit("/", 1)[-1])
        else:
            names |= set(member.get("properties", {}))
    return names


def event_types(document: dict[str, Any]) -> set[str]:
    schemas = document["components"]["schemas"]
    union = schemas["ResponseStreamEvent"]
    tags: set[str] = set()
    for variant in union.get("anyOf", union.get("oneOf", [])):
        target = schemas[variant["$ref"].rsplit("/", 1)[-1]]
        tags |= set(target["properties"]["type"].get("enum", []))
    return tags


@pytest.fixture(scope="module")
def raw_specs() -> tuple[dict[str, Any], dict[str, Any]]:
    return raw(PREVIOUS_SPEC), raw(SPEC)


@pytest.fixture(scope="module")
def shared_diff() -> SpecDiff:
    return compare_sources(str(PREVIOUS_SPEC), str(SPEC))


def of_kind(d: SpecDiff, kind: str) -> list[Change]:
    return [c for c in d.changes if c.kind == kind]


# --- the shared specs -------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_added_stream_event_type_is_named(
    raw_specs: tuple[dict[str, Any], dict[str, Any]], shared_diff: SpecDiff
) -> None:
    old, new = raw_specs
    expected = event_types(new) - event_types(old)
    assert len(expected) == 5
    named = {c.subject.removeprefix("stream event ") for c in of_kind(shared_diff, "event-type-added")}
    assert named == expected
    assert not of_kind(shared_diff, "event-type-removed")
    assert (shared_diff.old.event_types, shared_diff.new.event_types) == (53, 58)


@pytest.mark.parametrize("schema", ["Response", "CreateResponse"])
def test_every_added_response_and_request_property_is_named(
    raw_specs: tuple[dict[str, Any], dict[str, Any]], shared_diff: SpecDiff, schema: str
) -> None:
    old, new = (property_names(doc["components"]["schemas"], schema) for doc in raw_specs)
    expected = new - old
    assert expected, f"the shared specs add properties to {schema}"
    named = {
        c.subject.removeprefix(f"{schema}.")
        for c in of_kind(shared_diff, "property-added")
        if c.subject.startswith(f"{schema}.") and c.subject.count(".") == 1
    }
    assert named == expected
    removed = {c.subject for c in of_kind(shared_diff, "property-removed") if c.subject.startswith(f"{schema}.")}
    assert removed == {f"{schema}.{n}" for n in old - new}


def test_new_schemas_and_the_response_conversation_change(
    raw_specs: tuple[dict[str, Any], dict[str, Any]], shared_diff: SpecDiff
) -> None:
    added = {c.subject for c in of_kind(shared_diff, "schema-added")}
    assert {"ResponseShellCallCommandAddedStreamingEvent", "ResponseConversation", "PromptCacheOptions"} <= added
    conversation = [c for c in shared_diff.changes if c.subject == "Response.conversation"]
    # a reference to another schema of the same shape: compatible on the wire
    assert [(c.kind, c.impact) for c in conversation] == [("type-renamed", "additive")]
    assert "Conversation-2" in conversation[0].detail and "ResponseConversation" in conversation[0].detail
    removed = [c for c in shared_diff.changes if c.subject == "Conversation-2"]
    assert [(c.kind, c.impact) for c in removed] == [("schema-removed", "breaking-clients")]


def test_breaking_changes_come_first(shared_diff: SpecDiff) -> None:
    impacts = [c.impact for c in shared_diff.changes]
    order = ["breaking-both", "breaking-clients", "breaking-providers", "additive"]
    assert impacts == sorted(impacts, key=order.index)
    assert shared_diff.breaking > 0
    # a field the new spec requires in every response: providers that do not send it break
    usage = [c for c in shared_diff.changes if c.subject == "ResponseUsage.input_tokens_details.cache_write_tokens"]
    assert [(c.kind, c.impact) for c in usage] == [("property-added", "breaking-providers")]


MOVES = (
    "ResponseProperties.reasoning",
    "ResponseProperties.truncation",
    "ModelResponseProperties.service_tier",
    "CreateModelResponseProperties.service_tier",
)


def test_a_move_between_allof_parts_is_not_breaking(shared_diff: SpecDiff) -> None:
    # the four properties left the allOf parts for the inline part of Response and CreateResponse
    moved = [c for c in shared_diff.changes if c.subject in MOVES]
    assert sorted(c.subject for c in moved) == sorted(MOVES)
    assert {(c.kind, c.impact) for c in moved} == {("part-property-removed", "additive")}
    assert all("only an allOf part, no such change in CreateResponse" in c.detail for c in moved)
    parts = ("ResponseProperties.", "ModelResponseProperties.", "CreateModelResponseProperties.")
    assert not [c for c in shared_diff.changes if c.breaks and c.subject.startswith(parts)]
    # real changes stay, judged on the composed schemas, each in its own direction
    tiers = {(c.detail, c.impact) for c in shared_diff.changes if c.subject == "Response.service_tier"}
    assert ("enum value added: fast", "breaking-clients") in tiers
    nullable = {(c.subject, c.impact) for c in shared_diff.changes if c.detail == "now nullable"}
    assert {
        ("Response.prompt_cache_key", "breaking-clients"),
        ("CreateResponse.prompt_cache_key", "breaking-providers"),
    } <= nullable


def test_the_command_prints_json_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "diff", str(PREVIOUS_SPEC), str(SPEC), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["new"]["sha256"].startswith("db5d7478")
    assert data["changes"][0]["impact"] == "breaking-both"
    assert {"response.shell_call_command.added", "response.shell_call_output_content.done"} <= {
        c["subject"].removeprefix("stream event ") for c in data["changes"] if c["kind"] == "event-type-added"
    }
    out = tmp_path / "diff.md"
    assert main(["spec", "diff", str(PREVIOUS_SPEC), str(SPEC), "--format", "markdown", "--output", str(out)]) == 0
    markdown = out.read_text()
    assert markdown.index("Breaking for clients and providers") < markdown.index("Additive or compatible")
    assert "| `Response.moderation` | property added (optional) |" in markdown


def test_two_configs_with_the_same_pin_have_no_changes(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(REPO / "spec" / "respkit.yaml")
    assert main(["spec", "diff", config, config]) == 0
    out = capsys.readouterr().out
    assert "no changes" in out
    assert "stream event types 58 -> 58" in out


# --- hand-made spec pairs: who each change breaks ------------------------------------------------


REQUEST_REF = {"$ref": "#/components/schemas/CreateResponse"}


def tiny_spec(
    request: dict[str, Any],
    response: dict[str, Any],
    events: list[str] | None = None,
    shared: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A minimal spec with `/responses` (request CreateResponse, response Response, a stream) and
    `/responses/{response_id}`."""
    event_schemas = {
        f"Event{i}": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": [tag]}}}
        for i, tag in enumerate(events or ["response.created"])
    }
    ok = {
        "200": {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Response"}},
                "text/event-stream": {"schema": {"$ref": "#/components/schemas/ResponseStreamEvent"}},
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "tiny", "version": "1"},
        "paths": {
            "/responses": {
                "post": {
                    "operationId": "createResponse",
                    "requestBody": {"content": {"application/json": {"schema": REQUEST_REF}}},
                    "responses": ok,
                }
            },
            "/responses/{response_id}": {
                "get": {
                    "operationId": "getResponse",
                    "parameters": [
                        {"in": "path", "name": "response_id", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": ok["200"]},
                }
            },
        },
        "components": {
            "schemas": {
                "CreateResponse": request,
                "Response": response,
                "Shared": shared or {"type": "string", "enum": ["a"]},
                "ResponseStreamEvent": {"anyOf": [{"$ref": f"#/components/schemas/{n}"} for n in event_schemas]},
                **event_schemas,
            }
        },
    }


def obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or []}


STR, INT = {"type": "string"}, {"type": "integer"}
SHARED = {"$ref": "#/components/schemas/Shared"}
BASE_REQUEST = obj({"model": STR, "tone": {"type": "string", "enum": ["dry", "warm"]}, "shared": SHARED})
BASE_RESPONSE = obj(
    {"id": STR, "status": {"type": "string", "enum": ["done", "failed"]}, "note": STR, "shared": SHARED}, ["id"]
)

# (what, old request, old response, new request, new response, extra, subject, kind, impact)
CASES = [
    (
        "response property removed",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        obj({"id": STR, "status": BASE_RESPONSE["properties"]["status"], "shared": SHARED}, ["id"]),
        {},
        "Response.note",
        "property-removed",
        "breaking-clients",
    ),
    (
        "request property removed",
        BASE_REQUEST,
        BASE_RESPONSE,
        obj({"model": STR, "shared": SHARED}),
        BASE_RESPONSE,
        {},
        "CreateResponse.tone",
        "property-removed",
        "breaking-clients",
    ),
    (
        "request property made required",
        BASE_REQUEST,
        BASE_RESPONSE,
        {**BASE_REQUEST, "required": ["model"]},
        BASE_RESPONSE,
        {},
        "CreateResponse.model",
        "property-required",
        "breaking-clients",
    ),
    (
        "response property made required",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        {**BASE_RESPONSE, "required": ["id", "note"]},
        {},
        "Response.note",
        "property-required",
        "breaking-providers",
    ),
    (
        "response property made optional",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        {**BASE_RESPONSE, "required": []},
        {},
        "Response.id",
        "property-optional",
        "breaking-clients",
    ),
    (
        "new required response property",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        obj({**BASE_RESPONSE["properties"], "usage": INT}, ["id", "usage"]),
        {},
        "Response.usage",
        "property-added",
        "breaking-providers",
    ),
    (
        "new optional response property",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        obj({**BASE_RESPONSE["properties"], "usage": INT}, ["id"]),
        {},
        "Response.usage",
        "property-added",
        "additive",
    ),
    (
        "request enum value dropped",
        BASE_REQUEST,
        BASE_RESPONSE,
        obj({**BASE_REQUEST["properties"], "tone": {"type": "string", "enum": ["dry"]}}),
        BASE_RESPONSE,
        {},
        "CreateResponse.tone",
        "enum-value-removed",
        "breaking-clients",
    ),
    (
        "response enum value dropped",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        obj({**BASE_RESPONSE["properties"], "status": {"type": "string", "enum": ["done"]}}, ["id"]),
        {},
        "Response.status",
        "enum-value-removed",
        "breaking-providers",
    ),
    (
        "response enum value added",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        obj(
            {**BASE_RESPONSE["properties"], "status": {"type": "string", "enum": ["done", "failed", "queued"]}}, ["id"]
        ),
        {},
        "Response.status",
        "enum-value-added",
        "breaking-clients",
    ),
    (
        "enum value added to a schema used both ways",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        BASE_RESPONSE,
        {"shared": {"type": "string", "enum": ["a", "b"]}},
        "Shared",
        "enum-value-added",
        "breaking-both",
    ),
    (
        "response type changed",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        obj({**BASE_RESPONSE["properties"], "note": INT}, ["id"]),
        {},
        "Response.note",
        "type-changed",
        "breaking-both",
    ),
    (
        "response property now nullable",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        obj({**BASE_RESPONSE["properties"], "note": {"anyOf": [STR, {"type": "null"}]}}, ["id"]),
        {},
        "Response.note",
        "nullability-changed",
        "breaking-clients",
    ),
    (
        "request property no longer nullable",
        obj({"model": {"type": ["string", "null"]}}),
        BASE_RESPONSE,
        obj({"model": STR}),
        BASE_RESPONSE,
        {},
        "CreateResponse.model",
        "nullability-changed",
        "breaking-clients",
    ),
    (
        "stream event type added",
        BASE_REQUEST,
        BASE_RESPONSE,
        BASE_REQUEST,
        BASE_RESPONSE,
        {"events": ["response.created", "response.new_thing"]},
        "stream event response.new_thing",
        "event-type-added",
        "breaking-clients",
    ),
]


@pytest.mark.parametrize(
    ("what", "old_req", "old_resp", "new_req", "new_resp", "extra", "subject", "kind", "impact"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_who_a_change_breaks(
    tmp_path: Path,
    what: str,
    old_req: dict[str, Any],
    old_resp: dict[str, Any],
    new_req: dict[str, Any],
    new_resp: dict[str, Any],
    extra: dict[str, Any],
    subject: str,
    kind: str,
    impact: str,
) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(tiny_spec(old_req, old_resp)))
    new.write_text(yaml.safe_dump(tiny_spec(new_req, new_resp, **extra)))
    changes = compare_sources(str(old), str(new)).changes
    assert [(c.subject, c.kind, c.impact) for c in changes if c.subject == subject and c.kind == kind] == [
        (subject, kind, impact)
    ], what
    assert compare_sources(str(old), str(old)).changes == ()


def test_an_open_enum_grows_without_breaking(tmp_path: Path) -> None:
    model = {"anyOf": [STR, {"type": "string", "enum": ["m1"]}]}
    grown = {"anyOf": [STR, {"type": "string", "enum": ["m1", "m2"]}]}
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(tiny_spec(obj({"model": model}), obj({"model": model}))))
    new.write_text(yaml.safe_dump(tiny_spec(obj({"model": grown}), obj({"model": grown}))))
    changes = compare_sources(str(old), str(new)).changes
    assert [(c.subject, c.kind, c.impact) for c in changes] == [
        ("CreateResponse.model", "enum-values-changed", "additive"),
        ("Response.model", "enum-values-changed", "additive"),
    ]


# --- bad input: one line naming the file and the pointer, exit 2, nothing written -----------------


def run_diff(old: Path, new: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["spec", "diff", str(old), str(new), "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert not out.exists()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_an_unparsable_spec_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\npaths: {\n  /responses: [\n")
    line = run_diff(bad, SPEC, tmp_path / "out.txt", capsys)
    assert "bad.yaml" in line and "not valid YAML (line" in line


@pytest.mark.slow
def test_a_spec_without_responses_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        yaml.safe_dump({"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {"/chat/completions": {}}})
    )
    line = run_diff(SPEC, other, tmp_path / "out.txt", capsys)
    assert "other.yaml#/paths" in line and "'/responses'" in line


def test_a_pinned_config_with_another_sha256_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(REPO / "spec", spec)
    original = (spec / "respkit.yaml").read_text()
    text = original.replace("db5d7478feae10b4d331834c60d9765a8aa042e38419f9b1694288c11aa8ebc8", "ab" * 32)
    text = text.replace("local: ../shared/spec/openai-openapi.yaml", f"local: {SPEC.as_posix()}")
    (spec / "respkit.yaml").write_text(text)
    line = run_diff(spec / "respkit.yaml", SPEC, tmp_path / "out.txt", capsys)
    assert "openai-openapi.yaml: sha256 mismatch: pinned abab" in line


# --- allOf parts: a property that moves between them, and one that leaves the composition ---------


def composed_spec(part_a: dict[str, Any], part_b: dict[str, Any]) -> dict[str, Any]:
    """Response composed of two parts that nothing else references, and an inline part."""
    parts = [{"$ref": "#/components/schemas/PartA"}, {"$ref": "#/components/schemas/PartB"}]
    spec = tiny_spec(BASE_REQUEST, {"allOf": [*parts, obj({"id": STR}, ["id"])]})
    spec["components"]["schemas"].update(PartA=part_a, PartB=part_b)
    return spec


def part_changes(tmp_path: Path, old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    before, after = tmp_path / "old.yaml", tmp_path / "new.yaml"
    before.write_text(yaml.safe_dump(old))
    after.write_text(yaml.safe_dump(new))
    return [(c.subject, c.kind, c.impact) for c in compare_sources(str(before), str(after)).changes]


STATUS = {"type": "string", "enum": ["done"]}


def test_a_property_moved_between_allof_parts_is_compatible(tmp_path: Path) -> None:
    old = composed_spec(obj({"note": STR, "status": STATUS}), obj({"extra": INT}))
    new = composed_spec(obj({"status": STATUS}), obj({"extra": INT, "note": STR}))
    assert part_changes(tmp_path, old, new) == [
        ("PartA.note", "part-property-removed", "additive"),
        ("PartB.note", "part-property-added", "additive"),
    ]


def test_a_property_removed_from_the_composition_breaks_clients(tmp_path: Path) -> None:
    old = composed_spec(obj({"note": STR, "status": STATUS}), obj({"extra": INT}))
    grown = {"type": "string", "enum": ["done", "queued"]}
    new = composed_spec(obj({"status": grown}), obj({"extra": INT}))
    # told once, on the schema users meet; a change inside a part's property too
    assert part_changes(tmp_path, old, new) == [
        ("Response.note", "property-removed", "breaking-clients"),
        ("Response.status", "enum-value-added", "breaking-clients"),
    ]
