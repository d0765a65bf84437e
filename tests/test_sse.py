"""The SSE reader against the WHATWG event-stream interpretation rules."""

from __future__ import annotations

import pytest

from respkit.conformance.sse import Frame, SseReader, head_through, read_frames


def frames(body: bytes, size: int = 0) -> list[Frame]:
    chunks = [body[i : i + size] for i in range(0, len(body), size)] if size else [body]
    return list(read_frames(chunks))


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("size", [0, 1, 2, 3, 7])
def test_line_ends_and_chunking(eol: bytes, size: int) -> None:
    body = eol.join([b"event: a", b"data: 1", b"", b"data: 2", b"data: 3", b"", b""])
    got = frames(body, size)
    assert [(f.event, f.data) for f in got] == [("a", "1"), (None, "2\n3")]
    assert all(f.terminated for f in got)


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    assert [f.data for f in frames(b"data: x\r\n\r\ndata: y\r\n\r\n", 8)] == ["x", "y"]


def test_bom_is_skipped_even_when_split() -> None:
    assert [f.data for f in frames(b"\xef\xbb\xbfdata: x\n\n", 1)] == ["x"]


def test_comments_and_unknown_fields_are_ignored() -> None:
    reader = SseReader()
    got = reader.feed(b": keepalive\nfoo: bar\ndata: x\n\n")
    assert [f.data for f in got] == ["x"] and reader.comments == 1


def test_one_space_after_the_colon_is_dropped() -> None:
    assert [f.data for f in frames(b"data:x\n\ndata:  y\n\ndata\n\n")] == ["x", " y", ""]


def test_id_and_retry() -> None:
    reader = SseReader()
    got = reader.feed(b"id: 7\nretry: 1500\ndata: x\n\nretry: soon\nid: a\0b\ndata: y\n\n")
    assert (got[0].id, got[0].retry) == ("7", 1500)
    assert (got[1].id, got[1].retry) == (None, None) and reader.last_event_id == "7"


def test_blank_line_without_data_dispatches_nothing() -> None:
    assert frames(b"event: a\n\ndata: x\n\n")[0].event is None


def test_trailing_event_without_blank_line_is_kept_and_flagged() -> None:
    got = frames(b"data: 1\n\ndata: 2")
    assert [(f.data, f.terminated) for f in got] == [("1", True), ("2", False)]


def test_data_before_event_is_recorded() -> None:
    got = frames(b"data: {}\nevent: x\n\nevent: y\ndata: {}\n\n")
    assert [f.data_before_event for f in got] == [True, False]


def test_bad_utf8_is_replaced_and_located() -> None:
    got = frames(b"data: ok\n\ndata: a\xffb\n\n", 5)
    assert got[1].data == "a\ufffdb" and got[1].bad_utf8_offset == 17 and got[0].bad_utf8_offset is None


def test_multibyte_character_split_across_chunks() -> None:
    body = "data: é€😀\n\n".encode()
    assert [f.data for f in frames(body, 1)] == ["é€😀"]


def test_reader_holds_only_the_current_line() -> None:
    reader = SseReader()
    for _ in range(1000):
        reader.feed(b"data: x\n\n")
    assert not reader._pending and reader._data == []


def test_head_through_a_sequence_number_keeps_the_frames_as_they_were() -> None:
    body = (
        b": comment\n\n"
        b'event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\n'
        b'data: {"type":"response.in_progress",\n'
        b'data: "sequence_number":1}\n\n'
        b'event: response.completed\ndata: {"type":"response.completed","sequence_number":2}\n\n'
    )
    head = head_through(body, 1)
    assert head is not None
    frames, count = head
    assert count == 2
    assert [(f.event, f.data) for f in read_frames([frames])] == [
        (f.event, f.data) for f in list(read_frames([body]))[:2]
    ]  # the second kept its missing `event:` line and its two `data:` lines
    assert head_through(body, 7) is None and head_through(b"data: [DONE]\n\n", 0) is None
