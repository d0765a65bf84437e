"""`respkit replay`: the corpus runs clean under its providers' profiles, the bundled recordings show the
seed providers' real deviations, recordings regenerate from the seeds, and reports are written."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml

from respkit.conformance.cli import main
from respkit.conformance.recordings import HERE
from respkit.conformance.recordings.extract import main as extract
from respkit.conformance.replay import replay
from respkit.conformance.sse import read_frames
from respkit.generated import Response, parse_error, parse_event
from respkit.generated.envelope import NotAnErrorEnvelope
from respkit.generated.events import UnknownEvent
from tests.paths import CORPUS, REPO, SEEDS, corpus_files


def test_corpus_is_clean_under_its_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(CORPUS)]) == 0
    out = capsys.readouterr().out
    assert f"{len(corpus_files())} recordings: 0 failed" in out and "sse_event_line_before_data" in out


def test_openai_recordings_pass_under_openai_and_fail_under_strict() -> None:
    assert not any(r.failed for r in replay([CORPUS / "openai"], "openai"))
    assert any(r.failed for r in replay([CORPUS / "openai"], "strict"))


def test_corpus_fails_without_profiles() -> None:
    failed = {r.recording.provider for r in replay([CORPUS], "openai") if r.failed}
    assert failed == {"bedrock", "deepseek", "githubcopilot", "openrouter", "xai"}


def test_seed_providers_show_their_real_deviations() -> None:
    results = {r.recording.display.split("recordings/", 1)[1]: r for r in replay()}
    checks = {name: {f.check for f in r.findings if f.severity.value == "deviation"} for name, r in results.items()}
    assert "sse_event_line_present" in checks["acedata/streaming.sse"]
    assert "error_matches_envelope" in checks["acedata/error_api_error.error.json"]
    assert "response_matches_schema" in checks["acedata/v1_responses_reference.json"]
    assert not any(r.failed for r in results.values())


def test_reports(tmp_path: Path) -> None:
    paths = {k: tmp_path / f"r.{k}" for k in ("xml", "json", "md", "html")}
    args = ["replay", str(CORPUS / "bedrock"), "--junit-xml", str(paths["xml"]), "--json", str(paths["json"])]
    assert main([*args, "--markdown", str(paths["md"]), "--html", str(paths["html"])]) == 0
    data = json.loads(paths["json"].read_text())
    finding = next(f for r in data["recordings"] for f in r["findings"] if f["check"] == "sse_event_line_before_data")
    assert finding["severity"] == "deviation" and finding["reproduce"].startswith("respkit replay ")
    assert not any(r["live"] for r in data["recordings"])
    assert ET.parse(paths["xml"]).getroot().tag == "testsuites"
    markdown = paths["md"].read_text()
    assert "| `sse_event_line_before_data` |" in markdown and "**8 recordings: 0 failed;" in markdown
    page = paths["html"].read_text()
    assert (
        '<p class="verdict pass">8 recordings: 0 failed;' in page and "<code>sse_event_line_before_data</code>" in page
    )
    assert page.count("<details>") == 1 and "<details open>" not in page  # nothing failed: the rest folded
    assert list(tmp_path.glob(".*")) == []  # atomic writes leave no temporary files


def test_failures_exit_1_and_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(CORPUS / "xai"), "--profile", "openai"]) == 1
    assert main(["replay", str(tmp_path / "missing.sse")]) == 2
    assert main(["replay", str(CORPUS), "--profile", "nosuch"]) == 2
    bad = tmp_path / "x.sse"
    bad.write_text("data: {}\n\n")
    (tmp_path / "x.meta.yaml").write_text("profile: [")
    assert main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "x.meta.yaml: at '': not valid YAML" in err and "Traceback" not in err
    (tmp_path / "x.meta.yaml").write_text("status: two hundred")
    assert main(["replay", str(bad)]) == 2
    assert "x.meta.yaml: at /status: expected int or NoneType" in capsys.readouterr().err


def test_recordings_regenerate_from_the_seeds(tmp_path: Path) -> None:
    assert extract(["--seeds", str(SEEDS), "--out", str(tmp_path)]) == 0
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(
        p.relative_to(HERE)
        for p in HERE.rglob("*")
        if p.is_file() and p.parent != HERE and "__pycache__" not in p.parts  # the package's bytecode is no recording
    )
    assert made == shipped
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (HERE / rel).read_bytes(), rel


def test_sidecars_say_where_each_recording_comes_from() -> None:
    for sidecar in HERE.rglob("*.meta.yaml"):
        meta = yaml.safe_load(sidecar.read_text())
        assert {"provider", "profile", "source", "status", "content_type", "request"} <= set(meta), sidecar
        assert meta["source"].startswith("seeds/"), sidecar
        text = sidecar.read_text()
        assert str(REPO) not in text and str(SEEDS.resolve()) not in text, f"{sidecar}: a machine path"


def _recordings() -> list[object]:
    out: list[object] = []
    for p in sorted(p for p in HERE.rglob("*") if p.suffix in (".json", ".sse")):
        out.append(pytest.param(p, id=f"{p.parent.name}/{p.name}"))
    return out


@pytest.mark.parametrize("path", _recordings())
def test_seed_recordings_parse_into_the_generated_models(path: Path) -> None:
    if path.name.endswith(".error.json"):
        parsed = parse_error(path.read_bytes())
        assert isinstance(parsed, NotAnErrorEnvelope) and parsed.reason.startswith("/error/")
    elif path.suffix == ".sse":
        datas = [f.data for f in read_frames([path.read_bytes()]) if f.data.startswith("{")]
        if not yaml.safe_load(path.with_suffix(".meta.yaml").read_text()).get("complete", True):
            datas = datas[:-1]  # the document cuts its last event
        events = [parse_event(d) for d in datas]
        assert events and not any(isinstance(e, UnknownEvent) for e in events)
    elif json.loads(path.read_bytes()).get("object") == "response":
        assert Response.model_validate_json(path.read_bytes()).id.startswith("resp_")
    else:  # AceData's reference documents a chat.completion, which no Response reader accepts
        with pytest.raises(ValueError):
            Response.model_validate_json(path.read_bytes())


def test_live_reproduce_line_names_the_variable_not_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from respkit.conformance.engine import check_json_body
    from respkit.conformance.findings import Source

    monkeypatch.setenv("PROVIDER_KEY", "sk-secret-value")
    source = Source.live("https://api.example.test/v1", body={"model": "m", "input": "hi"}, key_env="PROVIDER_KEY")
    found = check_json_body(b"{}", profile="openai", source=source)
    assert found and all(f.reproduce == source.reproduce for f in found)
    assert '"Authorization: Bearer $PROVIDER_KEY"' in source.reproduce
    assert "sk-secret" not in json.dumps([f.to_dict() for f in found])


def test_html_report_escapes_what_providers_send() -> None:
    from respkit.conformance.findings import Finding, Severity
    from respkit.conformance.replay import Recording, Result
    from respkit.conformance.reports import to_html

    hostile = "<script>alert(1)</script>"
    finding = Finding(check="response_matches_schema", severity=Severity.FAILURE, message=hostile, received=hostile)
    recording = Recording(path=Path("x.json"), display="x.json", kind="json", provider="p", profile="strict")
    page = to_html([Result(recording, [finding])], "spec")
    assert hostile not in page and page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "<details open>" in page and 'class="verdict fail"' in page
