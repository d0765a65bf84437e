"""Schema checks: events and bodies against the bundle, errata and drift told apart from failures."""

from __future__ import annotations

import json
from pathlib import Path

from respkit.conformance.checks import load_all
from respkit.conformance.checks.schemas import SNAPSHOT_WHY, _snapshot
from respkit.conformance.findings import Severity
from respkit.conformance.schema import SchemaIssue, SpecValidators, default_validators
from tests.stream_builder import Stream, body_findings, failures

TEXT = "openai/text_stream_gpt-4o-mini.sse"


def test_event_matches_schema_names_the_pointer() -> None:
    s = Stream.load(TEXT)
    s.first("response.output_text.delta")["delta"] = 42
    found = [f for f in s.findings() if f.check == "event_matches_schema" and f.fails]
    assert [f.pointer for f in found] == ["/delta"] and found[0].event_index == s.index("response.output_text.delta")
    assert found[0].received == "42"


def test_nested_failure_points_into_the_response() -> None:
    s = Stream.load(TEXT)
    s.first("response.completed")["response"]["output"][0]["content"][0]["text"] = 7
    found = [f for f in s.findings() if f.check == "event_matches_schema" and f.fails]
    assert any(f.pointer == "/response/output/0/content/0/text" for f in found)


def test_erratum_is_a_deviation_and_strict_fails_it() -> None:
    found = body_findings("openai/web_search.json")
    user = [f for f in found if f.pointer == "/user"]
    assert user and user[0].severity is Severity.DEVIATION and "null" in user[0].note
    strict = body_findings("openai/web_search.json", profile="strict")
    assert "response_matches_schema" in failures(strict)


def test_drift_is_drift() -> None:
    found = body_findings("openai/text_basic.json")
    drift = {f.pointer for f in found if f.severity is Severity.DRIFT}
    assert "/usage/input_tokens_details/cache_write_tokens" in drift and not failures(found)


def test_response_matches_schema_fails_on_a_broken_body() -> None:
    found = body_findings("openai/text_basic.json", lambda b: {**b, "status": 5})
    assert any(f.check == "response_matches_schema" and f.pointer == "/status" for f in found if f.fails)


def test_the_report_names_the_spec_version() -> None:
    version = default_validators().version
    assert version.version == "2.3.0" and len(version.sha256) == 64


def test_event_types_follow_the_bundle(tmp_path: Path) -> None:
    """Remove an event type from the spec and the checks call it unknown: nothing is hand-listed."""
    bundle = json.loads(json.dumps(default_validators().bundle))
    union = bundle["components"]["schemas"]["ResponseStreamEvent"]
    key = "anyOf" if "anyOf" in union else "oneOf"
    union[key] = [v for v in union[key] if not v.get("$ref", "").endswith("/ResponseTextDeltaEvent")]
    smaller = SpecValidators(bundle)
    assert "response.output_text.delta" not in smaller.event_types
    from respkit.conformance.engine import check_stream

    body = Stream.load(TEXT).body()
    found = check_stream([body], validators=smaller, profile="strict")
    assert "event_type_known" in failures(found)


def test_every_check_has_a_test_that_makes_it_fail() -> None:
    here = Path(__file__).parent
    # the checks' own tests, and the tool families' mutants, each named with the check that catches it
    files = [*here.glob("test_checks_*.py"), here / "test_server_events.py"]
    text = "".join(p.read_text(encoding="utf-8") for p in files)
    untested = sorted(name for name in load_all() if f'"{name}"' not in text)
    assert untested == []


def test_streamed_error_event_shape() -> None:
    s = Stream.load("openai/stream_error_event_then_failed.sse")
    assert not failures(s.findings())
    del s.first("error")["error"]["message"]
    found = [f for f in s.findings() if f.check == "event_matches_schema" and f.fails]
    assert [f.pointer for f in found] == ["/error/message"]


def test_an_added_item_may_lack_nested_members_of_the_finished_one() -> None:
    # OpenAI's added web_search_call carries `action: {"type": "search"}` and fills it in by `done`
    # (openai/web_search_stream.sse); the older spec required the action's `query`, so that snapshot failed
    # there: a member missing at any depth of the added item is the snapshot erratum, its identity is not
    required = " is a required property"
    for pointer in ("/item/action/query", "/item/result", "/item/content/0/annotations"):
        issue = _snapshot(SchemaIssue(pointer, f'"{pointer.rsplit("/", 1)[1]}"{required}', "failure"))
        assert (issue.basis, issue.why) == ("erratum", SNAPSHOT_WHY), pointer
    for pointer in ("/item/action/type", "/item/id", "/item/content/0/type", "/response/output"):
        issue = _snapshot(SchemaIssue(pointer, f'"{pointer.rsplit("/", 1)[1]}"{required}', "failure"))
        assert issue.basis == "failure", pointer
    wrong = _snapshot(SchemaIssue("/item/action/query", '42 is not of type "string"', "failure"))
    assert wrong.basis == "failure"  # present and wrong is never a snapshot gap
