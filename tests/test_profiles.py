"""Provider profiles: every one loads, names real checks, and reclassifies only what it lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from respkit.conformance.checks import load_all
from respkit.conformance.findings import Finding, Severity
from respkit.conformance.profiles import PROFILES, ProfileError, available, load_profile, load_profile_file

REQUIRED = {
    "openai",
    "azure",
    "deepseek",
    "openrouter",
    "bedrock",
    "xai",
    "lmstudio",
    "gateway",
    "acedata",
    "4allapi",
    "strict",
    "githubcopilot",
    "mirascope",
}


def test_every_provider_has_a_profile() -> None:
    assert set(available()) >= REQUIRED


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_profiles_name_registered_checks(name: str) -> None:
    import fnmatch

    profile = load_profile(name)
    checks = set(load_all())
    assert all(fnmatch.filter(checks, d.check) for d in profile.deviations)


def test_openai_profile_excuses_nothing() -> None:
    assert load_profile("openai").deviations == ()


def test_pointer_patterns_limit_a_deviation() -> None:
    xai = load_profile("xai")
    base = Finding("response_matches_schema", Severity.FAILURE, "m", pointer="/output/0/action")
    assert xai.classify(base).severity is Severity.DEVIATION
    other = Finding("response_matches_schema", Severity.FAILURE, "m", pointer="/output/0/status")
    assert xai.classify(other).severity is Severity.FAILURE


def test_strict_turns_errata_and_drift_into_failures() -> None:
    drift = Finding("event_matches_schema", Severity.DRIFT, "m", basis="drift")
    assert load_profile("strict").classify(drift).severity is Severity.FAILURE
    assert load_profile("openai").classify(drift).severity is Severity.DRIFT


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("deviations: [1]", "/deviations/0"),
        ("deviations: [{pointer: /x}]", "/deviations/0/check"),
        ("deviations: [{check: x, evidence: a.sse}]", "/deviations/0/evidence"),
        ("strict: false\ndeviation: []", "/deviation"),
        ("done_sentinel: sometimes", "/done_sentinel"),
        ("extension_events: vendor.", "/extension_events"),
        ("deviations: [{check: x, pointer: 3}]", "/deviations/0/pointer"),
        ("name: [", "''"),
        ("models: gpt-4.1", "/models"),
        ("models: {text: 4}", "/models/text"),
        ("models: {fast: gpt-4.1-mini}", "/models/fast"),
    ],
)
def test_bad_profile_is_one_clear_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        load_profile_file(path)
    message = str(info.value)
    assert "bad.yaml" in message and where in message and "\n" not in message


def test_a_bad_profile_names_its_line_and_what_the_format_expects(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\ndeviations:\n  - check: sse_event_line_present\n    pointr: /x\n")
    with pytest.raises(ProfileError) as info:
        load_profile_file(path)
    assert str(info.value).startswith("mine.yaml:4: at /deviations/0/pointr: unknown member 'pointr'")


def test_every_bundled_profile_is_valid_against_the_shipped_format() -> None:
    import json

    import jsonschema
    import yaml

    schema = json.loads((PROFILES.parent / "profile.schema.json").read_text(encoding="utf-8"))
    for path in sorted(PROFILES.glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_profiles_live_in_spec() -> None:
    assert PROFILES.parts[-2:] == ("spec", "profiles")


def test_a_profile_file_is_given_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "my-provider.yaml"
    path.write_text("name: mine\nmodels: {text: small-1}\ndeviations: [{check: sse_event_line_present}]\n")
    profile = load_profile(str(path))
    assert (profile.name, profile.model, profile.reasoning_model) == ("mine", "small-1", None)
    with pytest.raises(ProfileError, match=r"nope\.yaml: no such profile file$"):
        load_profile(str(tmp_path / "nope.yaml"))


def test_provider_profiles_name_the_models_of_their_recordings() -> None:
    # each model a profile asks for appears in that provider's recordings (the corpus is the evidence)
    from tests.paths import CORPUS

    checked = 0
    for name in available():
        profile = load_profile(name)
        for model in filter(None, (profile.model, profile.reasoning_model)):
            seen = " ".join(p.read_text(errors="replace") for p in (CORPUS / name).glob("*") if p.is_file())
            assert re.search(rf'"model":\s*"{re.escape(model)}', seen), (name, model)
            checked += 1
    assert checked >= 10  # six provider profiles name their models


def test_the_readme_profile_example_is_a_valid_profile(tmp_path: Path) -> None:
    readme = (PROFILES.parent.parent / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```yaml\n(name: acme.*?)```", readme, re.S)
    path = tmp_path / "acme.yaml"
    path.write_text(example)
    profile = load_profile_file(path)
    error = Finding(
        "response_matches_schema", Severity.FAILURE, 'Response: "error" is a required property', pointer="/error"
    )
    assert profile.classify(error).severity is Severity.DEVIATION
    other = Finding("response_matches_schema", Severity.FAILURE, "Response: 3 is not a string", pointer="/error")
    assert profile.classify(other).severity is Severity.FAILURE
