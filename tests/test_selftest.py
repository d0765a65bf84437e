"""The self-test: mutants of every conformant recording are killed, and each operator kills."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from respkit.conformance.cli import main
from respkit.conformance.commands import score
from respkit.conformance.mutate import FAMILY_OPS, STREAM_OPS, kill, mutants
from respkit.conformance.recordings import HERE
from respkit.conformance.replay import check_recording, load_recording, replay
from tests.paths import CORPUS


@pytest.mark.slow
def test_score_meets_the_target() -> None:
    found = score([str(CORPUS), str(HERE)])
    assert found.total > 500 and found.share >= 0.99, found.survivors
    # OpenAI's own recordings lose no mutant at all (the survivors are the Copilot fixture's rewritten ids)
    assert not [where for where, _ in found.survivors or [] if "/openai/" in where], found.survivors


def test_at_least_twelve_operators_and_each_kills() -> None:
    rec = load_recording(CORPUS / "openai" / "text_stream_gpt-4o-mini.sse")
    made = list(mutants(rec))
    # this stream has no annotations (see file_search_stream), and nothing for the family operators to aim at
    # (tests/test_server_events.py holds each of them to its check)
    expected = set(STREAM_OPS) - {"annotation_lost"} - FAMILY_OPS
    assert len(STREAM_OPS) >= 12 and {m.operator for m in made} >= expected | {"content_type"}
    with tempfile.TemporaryDirectory() as tmp:
        survivors = [m.operator for m in made if not kill(rec, m, Path(tmp))]
    assert survivors == []


@pytest.mark.parametrize(
    ("operator", "check", "recording"),
    [
        ("terminal_status_mismatch", "stream_terminal_status_matches_type", "text_stream_gpt-4o-mini.sse"),
        ("response_id_mismatch", "stream_response_ids_agree", "text_stream_gpt-4o-mini.sse"),
        ("usage_dropped", "stream_usage_present", "text_stream_gpt-4o-mini.sse"),
        ("item_done_differs", "stream_item_done_matches_terminal", "text_stream_gpt-4o-mini.sse"),
        ("delta_disagrees", "stream_deltas_match_done", "text_stream_gpt-4o-mini.sse"),
        ("annotation_lost", "stream_part_holds_added_annotations", "file_search_stream.sse"),
    ],
)
def test_reconciliation_mutants_are_caught_by_their_own_check(
    operator: str, check: str, recording: str, tmp_path: Path
) -> None:
    rec = load_recording(CORPUS / "openai" / recording)
    (mutant,) = [m for m in mutants(rec) if m.operator == operator][:1]
    path = tmp_path / rec.path.name
    path.write_bytes(mutant.body)
    failed = {f.check for f in check_recording(replace(rec, path=path)).findings if f.fails}
    assert check in failed, failed


def test_unmodified_conformant_recordings_have_only_deviations_and_drift() -> None:
    for result in replay([CORPUS]):
        assert not result.failed, result.recording.display


def test_selftest_command(capsys: pytest.CaptureFixture[str]) -> None:
    # the command's verdict and line; the score over every recording is test_score_meets_the_target's
    assert main(["selftest", str(CORPUS / "openai" / "text_stream_gpt-4o-mini.sse")]) == 0
    assert "mutants of 1 conformant recording killed (100.0%)" in capsys.readouterr().out


@pytest.mark.slow
def test_selftest_with_no_path_mutates_the_reference_servers_streams_too(capsys: pytest.CaptureFixture[str]) -> None:
    # the bundled recordings are documentation examples; the reference server adds complete streams and the
    # bodies of every other operation, so that every operator has work
    assert main(["selftest"]) == 0
    out = capsys.readouterr().out
    table = dict(
        line.split() for line in out.splitlines()[1:] if line and not line.startswith(("selftest", "survived"))
    )
    assert set(STREAM_OPS) | {"content_type", "corrupt_json", "drop_required", "strip_envelope"} <= set(table)
    assert all(killed == f"{total}/{total}" for killed, total in ((v, v.split("/")[1]) for v in table.values()))
    assert out.splitlines()[-1].endswith("killed (100.0%); target 99%")
