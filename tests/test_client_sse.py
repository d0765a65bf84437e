"""The generated client's SSE decoder (WHATWG rules) and typed event reading, on its own and over HTTP
with every recorded stream of the shared corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respkit.generated import (
    EVENT_TYPES,
    APIStreamError,
    IncompleteStreamError,
    ResponsesClient,
    SSEDecoder,
    UnknownEvent,
    models,
)
from tests._client_server import Reply, scripted_server
from tests.paths import CORPUS

KEY = "sk-sse-test"


def decode(*chunks: bytes) -> list[tuple[str | None, bytes]]:
    decoder = SSEDecoder()
    out = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    return out + decoder.close()


def test_line_endings_crlf_cr_lf_and_a_crlf_split_across_chunks() -> None:
    assert decode(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [(None, b"a"), (None, b"b"), (None, b"c")]
    assert decode(b"event: x\r", b"\ndata: 1\r", b"\n\r", b"\n") == [("x", b"1")]


def test_bom_comments_fields_and_multiline_data() -> None:
    decoder = SSEDecoder()
    frames = decoder.feed(b"\xef\xbb")
    frames += decoder.feed(b"\xbf: comment\ndata\ndata:no-space\ndata:  two spaces\nid: 7\nretry: 15\n\n")
    frames += decoder.feed(b"retry: x1\nid: a\0b\nunknown: field\nevent\ndata: z\n\n")
    assert frames == [(None, b"\nno-space\n two spaces"), (None, b"z")]
    assert decoder.last_event_id == "7" and decoder.retry == 15


def test_data_before_event_empty_data_and_events_without_data() -> None:
    assert decode(b"data: {}\nevent: late\n\n") == [("late", b"{}")]
    assert decode(b"event: nothing\n\ndata:\n\n") == [(None, b"")]


def test_the_last_event_without_its_blank_line_is_dispatched_at_the_end() -> None:
    assert decode(b"data: 1\n\ndata: 2") == [(None, b"1"), (None, b"2")]
    assert decode(b"data: 1\n\nevent: only\n") == [(None, b"1")]


STREAMS = sorted(CORPUS.rglob("*.sse"))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(STREAMS),
    st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=30),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
)
def test_any_chunking_and_line_ending_decodes_the_same(path: Path, sizes: list[int], newline: bytes) -> None:
    body = path.read_bytes().replace(b"\r\n", b"\n")
    expected = decode(body)
    body = body.replace(b"\n", newline)
    chunks, at = [], 0
    for size in sizes * (len(body) // max(1, sum(sizes)) + 1):
        chunks.append(body[at : at + size])
        at += size
    assert decode(*chunks) == expected


def _deltas(body: bytes) -> str:
    text = []
    for _, data in decode(body):
        if data != b"[DONE]":
            value = json.loads(data)
            if value.get("type") == "response.output_text.delta":
                text.append(value["delta"])
    return "".join(text)


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recorded_stream_reads_to_its_final_response_over_http(path: Path) -> None:
    body = path.read_bytes()
    chunks = [body[i : i + 173] for i in range(0, len(body), 173)]
    with scripted_server(Reply.sse(*chunks)) as (url, _), ResponsesClient(base_url=url, api_key=KEY) as client:
        stream = client.responses.create(model="m", input="x", stream=True)
        if b'"type":"error"' in body.replace(b" ", b""):
            with pytest.raises(APIStreamError) as caught:
                stream.get_final_response()
            assert caught.value.code or caught.value.message
            return
        events = list(stream)
        # an event type this spec defines reads as its model; one it does not (Bedrock's
        # response.reasoning_part.*) as UnknownEvent, and the stream goes on
        unknown = [e.type for e in events if isinstance(e, UnknownEvent)]
        assert events and not [kind for kind in unknown if kind in EVENT_TYPES], path.name
        final = stream.get_final_response()
    assert isinstance(final, models.Response)
    assert stream.get_final_text() == _deltas(body)
    kinds = [item.type for item in final.output]
    assert kinds, path.name


@pytest.mark.slow
def test_the_accumulated_snapshot_equals_the_terminal_response() -> None:
    compared = set()
    for path in STREAMS:
        body = path.read_bytes()
        if b"function_call_arguments" not in body and b"reasoning_summary_text" not in body:
            continue
        frames = [(n, d) for n, d in decode(body) if d != b"[DONE]"]
        terminal = [i for i, (_, d) in enumerate(frames) if b'response.completed"' in d.replace(b" ", b"")]
        if not terminal:
            continue
        chunk = b"".join(b"data: " + d + b"\n\n" for _, d in frames[: terminal[0]])
        with scripted_server(Reply.sse(chunk)) as (url, _), ResponsesClient(base_url=url, api_key=KEY) as client:
            stream = client.responses.create(model="m", input="x", stream=True)
            with pytest.raises(IncompleteStreamError) as caught:
                stream.get_final_response()
        built = caught.value.snapshot
        final = json.loads(frames[terminal[0]][1])["response"]
        for mine, theirs in zip(built.output, final["output"], strict=True):
            for key in ("arguments", "summary"):
                if key in theirs:
                    got = getattr(mine, key)
                    got = [part.text for part in got] if key == "summary" else got
                    want = [part["text"] for part in theirs[key]] if key == "summary" else theirs[key]
                    assert got == want, (path.name, key)
                    compared.add((path.name, key))
    assert {key for _, key in compared} == {"arguments", "summary"} and len(compared) >= 4, compared


def test_unknown_missing_type_and_invalid_events_do_not_break_the_stream() -> None:
    frames = (
        b'event: vendor.ping\ndata: {"type": "vendor.ping", "load": 3}\n\n'
        b'event: response.output_text.delta\ndata: {"item_id": "m", "output_index": 0, "content_index": 0,'
        b' "delta": "hi"}\n\n'
        b'data: {"type": "response.output_text.delta", "delta": 5}\n\n'
        b"data: not json\n\n"
        b"data: [DONE]\n\n"
        b'data: {"type": "after.done"}\n\n'
    )
    with scripted_server(Reply.sse(frames)) as (url, _), ResponsesClient(base_url=url, api_key=KEY) as client:
        events = list(client.responses.create(model="m", input="x", stream=True))
    ping, delta, invalid, garbage = events
    assert isinstance(ping, UnknownEvent) and ping.raw == {"type": "vendor.ping", "load": 3}
    assert isinstance(delta, models.ResponseTextDeltaEvent) and delta.delta == "hi" and delta.sequence_number is None
    assert isinstance(invalid, UnknownEvent) and invalid.raw["delta"] == 5
    assert isinstance(garbage, UnknownEvent) and garbage.raw["data"] == "not json"


def test_a_json_response_to_a_stream_request_reads_as_its_completed_event() -> None:
    body = (CORPUS / "openai" / "text_basic.json").read_bytes()
    with scripted_server(Reply(body=body)) as (url, _), ResponsesClient(base_url=url, api_key=KEY) as client:
        stream = client.responses.create(model="m", input="x", stream=True)
        assert [e.type for e in stream] == ["response.completed"]
        assert stream.get_final_response().id == json.loads(body)["id"]


def test_a_gzip_encoded_stream_is_decoded() -> None:
    import gzip
    from dataclasses import replace

    body = (CORPUS / "openai" / "text_stream.sse").read_bytes()
    packed = gzip.compress(body)
    reply = replace(Reply.sse(packed[:100], packed[100:]), headers={"content-encoding": "gzip"})
    with scripted_server(reply) as (url, _), ResponsesClient(base_url=url, api_key=KEY) as client:
        stream = client.responses.create(model="m", input="x", stream=True)
        assert stream.get_final_text() == _deltas(body) != ""
