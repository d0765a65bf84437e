"""Reconciliation: deltas against done values, done items against the terminal response, ids, usage."""

from __future__ import annotations

from tests.stream_builder import Stream, failures

TEXT = "openai/text_stream_gpt-4o-mini.sse"


def test_deltas_match_done() -> None:
    s = Stream.load(TEXT)
    s.first("response.output_text.delta")["delta"] += "!"
    found = [f for f in s.findings() if f.check == "stream_deltas_match_done"]
    assert found and found[0].pointer == "/text" and "!" in found[0].received


def test_function_call_arguments_match_done() -> None:
    s = Stream.load("openai/function_call_stream_dotnet.sse")
    assert not failures(s.findings())
    s.first("response.function_call_arguments.delta")["delta"] = "{"
    assert "stream_deltas_match_done" in failures(s.findings())


def test_reasoning_summary_matches_done() -> None:
    s = Stream.load("openai/reasoning_summary_stream_o3-mini.sse")
    assert not failures(s.findings())
    s.first("response.reasoning_summary_text.delta")["delta"] = "X"
    assert "stream_deltas_match_done" in failures(s.findings())


def test_part_matches_value() -> None:
    s = Stream.load(TEXT)
    s.first("response.content_part.done")["part"]["text"] = "other"
    found = [f for f in s.findings() if f.check == "stream_part_matches_value"]
    assert found and found[0].pointer == "/part/text"


def test_item_done_matches_terminal() -> None:
    s = Stream.load(TEXT)
    s.first("response.completed")["response"]["output"][0]["content"][0]["text"] = "other"
    found = [f for f in s.findings() if f.check == "stream_item_done_matches_terminal"]
    assert found and found[0].pointer == "/response/output/0/content/0/text"


def test_encrypted_content_is_opaque() -> None:
    s = Stream.load("openai/reasoning_summary_stream_o3-mini.sse")
    assert "stream_item_done_matches_terminal" not in failures(s.findings())


def test_terminal_status_matches_type() -> None:
    s = Stream.load(TEXT)
    s.first("response.completed")["response"]["status"] = "incomplete"
    assert "stream_terminal_status_matches_type" in failures(s.findings())


def test_response_ids_agree() -> None:
    s = Stream.load(TEXT)
    s.first("response.completed")["response"]["id"] = "resp_other"
    assert "stream_response_ids_agree" in failures(s.findings())


def test_usage_present() -> None:
    s = Stream.load(TEXT)
    s.first("response.completed")["response"]["usage"] = None
    assert "stream_usage_present" in failures(s.findings())


def test_usage_totals_add_up() -> None:
    s = Stream.load(TEXT)
    s.first("response.completed")["response"]["usage"]["total_tokens"] += 1
    found = [f for f in s.findings() if f.check == "stream_usage_totals_add_up"]
    assert found and found[0].pointer == "/response/usage/total_tokens"


def test_openrouter_temporary_ids_are_its_known_deviation() -> None:
    s = Stream.load("openrouter/raw_reasoning_stream_gpt-oss-20b.sse")
    assert "stream_item_done_matches_terminal" in failures(s.findings("openai"))
    assert failures(s.findings("openrouter")) == set()


def test_done_part_holds_the_streamed_annotations() -> None:
    s = Stream.load("openai/file_search_stream.sse")
    assert not failures(s.findings())
    s.first("response.content_part.done")["part"]["annotations"][0]["index"] = 7
    found = [f for f in s.findings() if f.check == "stream_part_holds_added_annotations"]
    assert [(f.pointer, f.fails) for f in found] == [("/part/annotations/0", True)]
    s = Stream.load("openai/file_search_stream.sse")
    s.first("response.content_part.done")["part"]["annotations"] = []
    found = [f for f in s.findings() if f.check == "stream_part_holds_added_annotations"]
    assert found and found[0].received == "(missing)"
