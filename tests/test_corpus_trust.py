"""Trust on real traffic: every recording of the shared corpus replays clean under its provider's
profile, every profile deviation and every stream rule is needed by some recording (no dead entries),
and each rule still fails the broken stream it must not excuse."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from respkit.conformance.checks.schemas import SNAPSHOT_WHY
from respkit.conformance.engine import check_stream
from respkit.conformance.profiles import available, load_profile
from respkit.conformance.recordings import HERE as BUNDLED
from respkit.conformance.replay import check_recording, kind_of, load_recording
from tests.paths import CORPUS

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the shared corpus is absent ({CORPUS.name}/ beside the repository)"
)

RECORDINGS = sorted(p for p in CORPUS.rglob("*") if p.is_file() and kind_of(p)) if CORPUS.is_dir() else []


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", RECORDINGS, ids=_label)
def test_every_real_recording_replays_clean_under_its_profile(path: Path) -> None:
    result = check_recording(load_recording(path))
    failures = [f"{f.check} at {f.pointer or '/'}: {f.message}" for f in result.findings if f.fails]
    assert failures == [], f"{_label(path)} under {result.recording.profile}:\n" + "\n".join(failures[:10])


def _evidence(name: str) -> Path:
    """An evidence file: a corpus path, else a bundled recording's."""
    for root in (CORPUS, BUNDLED):
        if (root / name).is_file():
            return root / name
    raise AssertionError(f"evidence {name} is neither in the corpus nor among the bundled recordings")


DEVIATIONS = [(name, index) for name in available() for index in range(len(load_profile(name).deviations))]


@pytest.mark.parametrize(("name", "index"), DEVIATIONS, ids=[f"{n}#{i}" for n, i in DEVIATIONS])
def test_each_profile_deviation_is_needed_by_its_evidence(name: str, index: int) -> None:
    profile = load_profile(name)
    deviation = profile.deviations[index]
    assert deviation.why and deviation.evidence, f"{name}#/deviations/{index} names no why or no evidence"
    others = replace(profile, deviations=tuple(d for i, d in enumerate(profile.deviations) if i != index))
    for evidence in deviation.evidence:
        result = check_recording(load_recording(_evidence(evidence)), others)
        needed = [f for f in result.findings if f.fails and deviation.matches(f)]
        assert needed, f"{evidence} passes under {name} without its deviation #{index} ({deviation.check})"


def _findings(name: str, profile: str = "openai") -> list[str]:
    result = check_recording(load_recording(CORPUS / name), load_profile(profile))
    return [f"{f.severity.value} {f.check}: {f.message} {f.note}" for f in result.findings]


@pytest.mark.parametrize(
    ("evidence", "check", "what"),
    [
        ("openai/image_generation_stream.sse", "event_matches_schema", SNAPSHOT_WHY[:40]),
        ("openai/web_search_reasoning_stream.sse", "event_matches_schema", SNAPSHOT_WHY[:40]),
        ("openai/mcp_call_after_approval_stream.sse", "stream_tool_call_phases", "repeated"),
        ("openai/mcp_list_tools_three_servers_stream.sse", "stream_items_closed", "closed by their completed"),
    ],
)
def test_each_stream_rule_is_needed_by_openais_traffic_and_fails_under_strict(
    evidence: str, check: str, what: str
) -> None:
    assert any(f.startswith(f"deviation {check}:") and what in f for f in _findings(evidence)), evidence
    assert any(f.startswith(f"failure {check}:") for f in _findings(evidence, "strict")), evidence


def _frames(path: Path) -> list[dict[str, object]]:
    return [json.loads(line[5:]) for line in path.read_text().splitlines() if line.startswith("data:")]


def _stream(events: list[dict[str, object]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def _failed(events: list[dict[str, object]]) -> set[str]:
    return {f.check for f in check_stream([_stream(events)], profile="openai") if f.fails}


def test_a_resumed_background_stream_passes_and_a_stream_missing_its_start_does_not() -> None:
    events = _frames(CORPUS / "openai/background_resume_stream_starting_after.sse")
    assert _failed(events) == set()
    foreground = [{**e, "response": {**e["response"], "background": False}} if "response" in e else e for e in events]
    assert {"stream_starts_with_created", "stream_sequence_numbers_start_at_zero"} <= _failed(foreground)
    other = [*events[:-1], {**events[-1], "response": {**events[-1]["response"], "id": "resp_other"}}]  # type: ignore[dict-item]
    assert "stream_response_ids_agree" in _failed(other)


def test_re_encrypted_opaque_state_compares_by_presence_and_a_changed_value_still_fails() -> None:
    events = _frames(CORPUS / "openai/program_function_call_stream.sse")
    assert _failed(events) == set()
    done = next(i for i, e in enumerate(events) if e["type"] == "response.output_item.done")
    item = dict(events[done]["item"])  # type: ignore[arg-type]
    changed = [*events[:done], {**events[done], "item": {**item, "fingerprint": "plain"}}, *events[done + 1 :]]
    assert "stream_item_done_matches_terminal" in _failed(changed)


def test_a_finished_item_is_still_checked_in_full() -> None:
    events = _frames(CORPUS / "openai/image_generation_stream.sse")
    done = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "image_generation_call"  # type: ignore[index]
    )
    item = {k: v for k, v in events[done]["item"].items() if k != "result"}  # type: ignore[union-attr]
    assert "event_matches_schema" in _failed([*events[:done], {**events[done], "item": item}, *events[done + 1 :]])


def test_every_provider_of_the_corpus_has_a_profile_of_its_own() -> None:
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "holdout"}
    assert folders - set(available()) == set()
