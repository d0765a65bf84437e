"""`respkit profile draft`: a provider's recordings become a profile under which they replay clean, while a
broken copy of one of its streams still fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from respkit.conformance.cli import main
from respkit.conformance.mutate import STREAM_OPS, join_frames, split_frames
from respkit.conformance.profiles import load_profile_file
from respkit.conformance.recordings import HERE as BUNDLED
from respkit.conformance.replay import check_recording, load_recording, replay
from tests.paths import CORPUS


def _draft(folder: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["profile", "draft", str(folder), "--name", "acme", "--out", str(out), *extra]) == 0
    return capsys.readouterr().out


def test_a_draft_from_the_seed_provider_replays_it_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "acme"
    shutil.copytree(BUNDLED / "acedata", folder, ignore=shutil.ignore_patterns("*.meta.yaml"))
    assert any(r.failed for r in replay([folder], "openai"))
    out = tmp_path / "acme.yaml"
    said = _draft(folder, out, capsys)
    assert "under the draft: 0 failing" in said
    profile = load_profile_file(out)
    assert profile.name == "acme" and all(d.why == "" and d.evidence for d in profile.deviations)
    assert {d.check for d in profile.deviations} >= {"sse_event_line_present", "error_matches_envelope"}
    assert not any(r.failed for r in replay([folder], str(out)))


def test_a_broken_stream_still_fails_under_the_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent ({CORPUS.name}/ beside the repository)")
    folder = tmp_path / "mantle"
    shutil.copytree(CORPUS / "bedrock", folder)
    out = tmp_path / "mantle.yaml"
    _draft(folder, out, capsys)
    assert not any(r.failed for r in replay([folder], str(out)))
    stream = folder / "reasoning_text_stream_gpt-oss-20b.sse"
    frames = split_frames(stream.read_bytes())
    for name in ("drop_terminal", "delta_disagrees", "swap_adjacent"):
        broken = tmp_path / f"{name}.sse"
        broken.write_bytes(join_frames(STREAM_OPS[name](frames, len(frames) // 2) or frames))
        assert check_recording(load_recording(broken, str(out))).failed, name


def test_a_draft_never_replaces_a_file_unasked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "acme.yaml"
    out.write_text("name: mine\n")
    assert main(["profile", "draft", str(BUNDLED / "acedata"), "--name", "acme", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_text() == "name: mine\n"
    _draft(BUNDLED / "acedata", out, capsys, "--force")
    assert yaml.safe_load(out.read_text())["name"] == "acme"


def test_a_draft_of_nothing_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "draft", str(tmp_path / "none"), "--name", "x", "--out", str(tmp_path / "x.yaml")]) == 2
    assert "no such file or folder" in capsys.readouterr().err and not (tmp_path / "x.yaml").exists()
