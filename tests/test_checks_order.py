"""Event-order rules: each fails on a stream broken in exactly the way it names."""

from __future__ import annotations

import copy

import pytest

from tests.stream_builder import Event, Stream, failures

TEXT = "openai/text_stream_gpt-4o-mini.sse"
DELTA = "response.output_text.delta"


def _move(s: Stream, src: int, dst: int) -> None:
    s.events.insert(dst, s.events.pop(src))


def _renumber(s: Stream) -> None:
    for i, e in enumerate(s.events):
        if isinstance(e.data, dict):
            e.data["sequence_number"] = i


def test_starts_with_created() -> None:
    s = Stream.load(TEXT)
    del s.events[0]
    _renumber(s)
    assert "stream_starts_with_created" in failures(s.findings())


def test_created_once() -> None:
    s = Stream.load(TEXT)
    s.events.insert(3, copy.deepcopy(s.events[0]))
    _renumber(s)
    assert "stream_created_once" in failures(s.findings())


def test_opens_in_progress() -> None:
    s = Stream.load(TEXT)
    del s.events[1]
    _renumber(s)
    assert "stream_opens_in_progress" in failures(s.findings())


def test_sequence_numbers_start_at_zero() -> None:
    s = Stream.load(TEXT)
    for e in s.events:
        assert isinstance(e.data, dict)
        e.data["sequence_number"] += 1
    assert failures(s.findings()) == {"stream_sequence_numbers_start_at_zero"}


def test_sequence_numbers_increase() -> None:
    s = Stream.load(TEXT)
    s.events[5].data["sequence_number"] = 9  # type: ignore[index]
    found = [f for f in s.findings() if f.check == "stream_sequence_numbers_increase"]
    assert found[0].event_index == 5 and found[0].expected == "5" and found[0].received == "9"


def test_one_missing_sequence_number_is_a_failure() -> None:
    s = Stream.load(TEXT)
    data = s.events[4].data
    assert isinstance(data, dict)
    del data["sequence_number"]
    assert "stream_sequence_number_present" in failures(s.findings())


def test_no_sequence_number_at_all_is_drift() -> None:
    found = Stream.load("openai/text_stream.sse").findings()
    drift = [f for f in found if f.check == "stream_sequence_number_present"]
    assert [f.severity.value for f in drift] == ["drift"] and not failures(found)


def test_item_added_before_use() -> None:
    s = Stream.load(TEXT)
    s.events[s.index(DELTA)].data["output_index"] = 3  # type: ignore[index]
    found = [f for f in s.findings() if f.check == "stream_item_added_before_use"]
    assert found and found[0].pointer == "/output_index"


def test_item_id_must_match_index() -> None:
    s = Stream.load(TEXT)
    s.events[s.index(DELTA)].data["item_id"] = "msg_other"  # type: ignore[index]
    assert "stream_item_added_before_use" in failures(s.findings())


def test_no_event_after_item_done() -> None:
    s = Stream.load(TEXT)
    _move(s, s.index(DELTA), s.index("response.output_item.done"))
    _renumber(s)
    assert "stream_no_event_after_item_done" in failures(s.findings())


def test_output_index_contiguous() -> None:
    s = Stream.load(TEXT)
    s.first("response.output_item.added")["output_index"] = 1
    assert "stream_output_index_contiguous" in failures(s.findings())


def test_item_done_once() -> None:
    s = Stream.load(TEXT)
    i = s.index("response.output_item.done")
    s.events.insert(i, copy.deepcopy(s.events[i]))
    _renumber(s)
    assert "stream_item_done_once" in failures(s.findings())


def test_part_added_once() -> None:
    s = Stream.load(TEXT)
    i = s.index("response.content_part.added")
    s.events.insert(i, copy.deepcopy(s.events[i]))
    _renumber(s)
    assert "stream_part_added_once" in failures(s.findings())


def test_part_added_before_deltas() -> None:
    s = Stream.load(TEXT)
    del s.events[s.index("response.content_part.added")]
    _renumber(s)
    assert "stream_part_added_before_deltas" in failures(s.findings())


def test_no_delta_after_done() -> None:
    s = Stream.load(TEXT)
    _move(s, s.index(DELTA), s.index("response.output_text.done"))
    _renumber(s)
    assert "stream_no_delta_after_done" in failures(s.findings())


def test_value_done_before_part_done() -> None:
    s = Stream.load(TEXT)
    del s.events[s.index("response.output_text.done")]
    _renumber(s)
    assert "stream_value_done_before_part_done" in failures(s.findings())


def test_parts_done_before_item_done() -> None:
    s = Stream.load(TEXT)
    del s.events[s.index("response.content_part.done")]
    _renumber(s)
    assert "stream_parts_done_before_item_done" in failures(s.findings())


def test_tool_call_phases() -> None:
    s = Stream.load("openai/web_search_stream.sse")
    assert not failures(s.findings())
    del s.events[s.index("response.web_search_call.in_progress")]
    _renumber(s)
    assert "stream_tool_call_phases" in failures(s.findings())


@pytest.mark.parametrize(
    ("family", "phases"),
    [
        ("code_interpreter_call", ["in_progress", "interpreting", "completed"]),
        ("image_generation_call", ["in_progress", "generating", "completed"]),
        ("mcp_call", ["in_progress", "completed"]),
        ("mcp_list_tools", ["in_progress", "failed"]),
    ],
)
def test_every_tool_call_family_of_the_spec_keeps_its_phases(family: str, phases: list[str]) -> None:
    # the phase rule is derived from the spec's event types: other tools' calls follow it like web search does
    s = Stream.load("openai/web_search_stream.sse")
    start = s.index("response.web_search_call.in_progress")
    template = s.events[start]
    del s.events[start : start + 3]
    for offset, phase in enumerate(phases):
        event = copy.deepcopy(template)
        event.data["type"] = event.name = f"response.{family}.{phase}"  # type: ignore[index]
        s.events.insert(start + offset, event)
    _renumber(s)
    assert "stream_tool_call_phases" not in failures(s.findings())
    _move(s, start, start + len(phases) - 1)  # in_progress last
    _renumber(s)
    assert "stream_tool_call_phases" in failures(s.findings())


def test_annotation_index_increases() -> None:
    s = Stream.load("openai/file_search_stream.sse")
    assert not failures(s.findings())
    s.first("response.output_text.annotation.added")["annotation_index"] = 2
    assert "stream_annotation_index_increases" in failures(s.findings())


def test_single_terminal() -> None:
    s = Stream.load(TEXT)
    s.events.append(copy.deepcopy(s.events[-1]))
    _renumber(s)
    assert "stream_single_terminal" in failures(s.findings())


def test_nothing_after_terminal() -> None:
    s = Stream.load(TEXT)
    s.events.append(copy.deepcopy(s.events[s.index(DELTA)]))
    _renumber(s)
    assert "stream_nothing_after_terminal" in failures(s.findings())


def test_ends_with_terminal() -> None:
    s = Stream.load(TEXT)
    del s.events[-1]
    assert "stream_ends_with_terminal" in failures(s.findings())


@pytest.mark.parametrize("cut", ["drop_failed", "event_between"])
def test_error_followed_by_failed(cut: str) -> None:
    s = Stream.load("openai/stream_error_event_then_failed.sse")
    assert not failures(s.findings())
    if cut == "drop_failed":
        del s.events[-1]
    else:
        s.events.insert(s.index("error") + 1, copy.deepcopy(s.events[1]))
        _renumber(s)
    assert "stream_error_followed_by_failed" in failures(s.findings())


def test_items_closed() -> None:
    s = Stream.load(TEXT)
    del s.events[s.index("response.output_item.done")]
    _renumber(s)
    assert "stream_items_closed" in failures(s.findings())


def test_an_undocumented_event_type_is_its_own_finding_and_fails_only_under_strict() -> None:
    from respkit.conformance.findings import Severity
    from respkit.conformance.profiles import Profile

    s = Stream.load(TEXT)
    s.events.insert(4, Event({"type": "vendor.keepalive", "sequence_number": 4}, "vendor.keepalive"))
    _renumber(s)
    found = [f for f in s.findings() if f.check == "event_type_known"]
    assert found[0].severity is Severity.UNDOCUMENTED and "2.3.0" in found[0].message
    assert not any(f.fails for f in s.findings())
    assert "event_type_known" in failures(s.findings("strict"))
    allowed = Profile(name="vendor", extension_events=("vendor.",))
    assert [f.severity for f in s.findings(allowed) if f.check == "event_type_known"] == [Severity.DEVIATION]


def test_a_mangled_known_event_type_still_fails_through_what_its_loss_breaks() -> None:
    s = Stream.load(TEXT)
    delta = s.index("response.output_text.delta")
    s.events[delta].data["type"] = s.events[delta].name = "response.output_text.delat"  # type: ignore[index]
    found = s.findings()
    assert "stream_deltas_match_done" in failures(found)
    done = s.index("response.completed")
    s = Stream.load(TEXT)
    s.events[done].data["type"] = s.events[done].name = "response.complete"  # type: ignore[index]
    assert "stream_ends_with_terminal" in failures(s.findings())


def test_background_streams_may_open_with_queued() -> None:
    s = Stream.load(TEXT)
    s.events[1].data["type"] = s.events[1].name = "response.queued"  # type: ignore[index]
    s.events[1].data["response"]["status"] = "queued"  # type: ignore[index]
    assert "stream_opens_in_progress" not in failures(s.findings())
