"""Framing checks: each fails on a deliberately broken stream, and is silent on OpenAI's own."""

from __future__ import annotations

from respkit.conformance.profiles import Profile
from tests.stream_builder import Event, Stream, failures

BASE = "openai/text_stream_gpt-4o-mini.sse"


def test_base_stream_has_no_failure() -> None:
    assert failures(Stream.load(BASE).findings()) == set()


def test_content_type() -> None:
    s = Stream.load(BASE)
    s.content_type = "application/json"
    assert "sse_content_type" in failures(s.findings())


def test_utf8() -> None:
    s = Stream.load(BASE)
    s.trailer = b'event: x\ndata: {"type": "\xff"}\n\n'
    assert "sse_utf8" in failures(s.findings())


def test_event_terminated() -> None:
    s = Stream.load(BASE)
    s.trailer = b'data: {"type": "response.output_text.delta"}'
    assert "sse_event_terminated" in failures(s.findings())


def test_data_is_json() -> None:
    s = Stream.load(BASE)
    s.events[3].data = "{not json"
    assert "sse_data_is_json" in failures(s.findings())


def test_event_line_present() -> None:
    s = Stream.load(BASE)
    s.events[2].name = None
    found = [f for f in s.findings() if f.check == "sse_event_line_present"]
    assert [f.event_index for f in found] == [2]


def test_event_matches_type() -> None:
    s = Stream.load(BASE)
    s.events[4].name = "response.output_text.done"
    found = [f for f in s.findings() if f.check == "sse_event_matches_type"]
    assert found and found[0].received == "response.output_text.done" and found[0].pointer == "/type"


def test_event_line_before_data() -> None:
    s = Stream.load(BASE)
    s.events[1].data_first = True
    assert "sse_event_line_before_data" in failures(s.findings())


def test_done_sentinel_forbidden_by_default() -> None:
    s = Stream.load(BASE)
    s.events.append(Event("[DONE]"))
    assert "sse_done_sentinel" in failures(s.findings())


def test_done_sentinel_required_by_profile() -> None:
    profile = Profile(name="sentinel", done_sentinel="required")
    s = Stream.load(BASE)
    assert "sse_done_sentinel_present" in failures(s.findings(profile))
    s.events.append(Event("[DONE]"))
    assert failures(s.findings(profile)) == set()


def test_bedrock_order_is_a_deviation_under_its_profile_only() -> None:
    s = Stream.load("bedrock/function_call_stream.sse")
    assert "sse_event_line_before_data" in failures(s.findings("openai"))
    assert failures(s.findings("bedrock")) == set()
