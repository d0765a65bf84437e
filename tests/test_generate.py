"""The generator: golden tree, determinism, atomic writes, the stale gate, bad input."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from respkit.generator import models
from respkit.generator.config import load_config
from respkit.generator.output import compare_tree, write_tree
from respkit.generator.pipeline import HEADER_MARK, file_names, prepare, render
from tests.paths import REPO, SPEC


def _fresh_render() -> dict[str, str]:
    """A render that runs datamodel-code-generator: no models kept in this process or in the user cache
    are read (the spec itself may come from the cache: a fresh clone without `../shared` has it there)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "_GENERATED", {})
        patch.setattr(models, "load_entry", lambda kind, key: None)
        return render(prepare(load_config()))


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return _fresh_render()


def respkit(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "respkit.conformance", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_generated_tree_matches_the_spec(rendered: dict[str, str]) -> None:
    """A render from scratch (datamodel-code-generator run, nothing cached) is the whole tree of generated/."""
    stale = compare_tree(REPO / "generated", rendered)
    if stale:
        diffs = "\n".join(s.diff or f"{s.reason}: {s.path}" for s in stale)
        pytest.fail(f"generated/ is stale; regenerate with `respkit generate`\n{diffs[:6000]}")


def test_the_files_known_before_rendering_are_the_files_rendered(rendered: dict[str, str]) -> None:
    assert file_names() == set(rendered)  # what `generate` checks a target against before it renders


def test_every_generated_file_carries_the_header(rendered: dict[str, str]) -> None:
    for name, text in rendered.items():
        if name == "py.typed":
            continue
        assert HEADER_MARK in text.splitlines()[0] or HEADER_MARK in text[:300], name


@pytest.mark.slow
def test_check_does_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 60\n[tool.ruff]\nline-length = 60\n")
    result = respkit("generate", "--check", "--config", str(REPO / "spec" / "respkit.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]


def test_package_without_out_is_a_usage_error(tmp_path: Path) -> None:
    result = respkit("generate", "--package", "mine", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "respkit: error: --package NAME needs --out DIR: the repository's own package is always `generated`"
    )


@pytest.mark.slow
def test_two_runs_are_byte_identical(rendered: dict[str, str]) -> None:
    again = _fresh_render()
    assert {k: hashlib.sha256(v.encode()).hexdigest() for k, v in again.items()} == {
        k: hashlib.sha256(v.encode()).hexdigest() for k, v in rendered.items()
    }


def test_closure_has_all_operations_and_event_types(rendered: dict[str, str]) -> None:
    import json

    manifest = json.loads(rendered["manifest.json"])
    assert manifest["paths"] == [
        "/responses",
        "/responses/compact",
        "/responses/input_tokens",
        "/responses/{response_id}",
        "/responses/{response_id}/cancel",
        "/responses/{response_id}/input_items",
    ]
    assert manifest["stream_event_types"] == 58
    assert manifest["upstream"]["sha256"] == "db5d7478feae10b4d331834c60d9765a8aa042e38419f9b1694288c11aa8ebc8"


def test_no_numbered_type_classes_and_fixed_tags(rendered: dict[str, str]) -> None:
    models = rendered["models.py"]
    assert "class Type2" not in models
    for tag in (
        'Literal["WebSearchTool"]',
        'Literal["WebSearchPreviewTool"]',
        'Literal["CompoundFilter"]',
        'Literal["ComparisonFilter"]',
    ):
        assert tag not in models, tag
    assert 'Literal["web_search", "web_search_2025_08_26"]' in models
    assert 'Literal["and", "or"]' in models


def test_class_names_carry_no_collision_counters(rendered: dict[str, str]) -> None:
    import json
    import re

    spec_names = set(json.loads(rendered["schema.json"])["components"]["schemas"])
    spec_names |= {re.sub(r"\W", "", n) for n in spec_names}
    numbered = [n for n in re.findall(r"^class (\w+)\(", rendered["models.py"], re.M) if n[-1].isdigit()]
    assert [n for n in numbered if n not in spec_names] == []


def test_check_passes_on_a_fresh_tree_and_names_stale_files(tmp_path: Path, rendered: dict[str, str]) -> None:
    target = tmp_path / "generated"
    write_tree(target, rendered)
    assert compare_tree(target, rendered) == []
    (target / "models.py").write_text("# edited by hand\n")
    (target / "extra.py").write_text("")
    (target / "events.py").unlink()
    stale = {(s.path, s.reason) for s in compare_tree(target, rendered)}
    assert stale == {("models.py", "changed"), ("extra.py", "extra"), ("events.py", "missing")}


def test_generate_check_command_exits_1_and_names_the_file(tmp_path: Path, rendered: dict[str, str]) -> None:
    write_tree(tmp_path / "pkg", rendered)
    (tmp_path / "pkg" / "envelope.py").write_text("# stale\n")
    result = respkit("generate", "--check", "--out", str(tmp_path), "--package", "pkg")
    assert result.returncode == 1, result.stderr
    assert "pkg/envelope.py" in result.stdout
    # the hint repeats the user's own options: the plain command would regenerate another package
    assert result.stdout.splitlines()[-1] == f"regenerate with: respkit generate --out {tmp_path} --package pkg"


@pytest.mark.slow
def test_generate_refuses_to_delete_files_it_did_not_write(tmp_path: Path, rendered: dict[str, str]) -> None:
    write_tree(tmp_path / "pkg", rendered)
    (tmp_path / "pkg" / "custom.py").write_text("def mine() -> None: ...\n")
    (tmp_path / "pkg" / "old_module.py").write_text("# @generated by respkit from x.yaml; do not edit\n")
    result = respkit("generate", "--out", str(tmp_path), "--package", "pkg")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "holds files respkit did not write (custom.py): move them, or --force" in line
    assert (tmp_path / "pkg" / "custom.py").exists() and (tmp_path / "pkg" / "old_module.py").exists()
    forced = respkit("generate", "--out", str(tmp_path), "--package", "pkg", "--force")
    assert forced.returncode == 0, forced.stderr
    assert not (tmp_path / "pkg" / "custom.py").exists() and not (tmp_path / "pkg" / "old_module.py").exists()


def test_generate_into_a_users_package_imports(tmp_path: Path) -> None:
    result = respkit("generate", "--out", str(tmp_path), "--package", "myresponses")
    assert result.returncode == 0, result.stderr
    code = "import myresponses as m; print(m.Response.__name__, len(m.EVENT_TYPES))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["Response", "58"], out.stderr


def test_a_failed_write_leaves_the_tree_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "generated"
    write_tree(target, {"a.py": "old\n"})

    with pytest.raises(TypeError):
        write_tree(target, {"a.py": "new\n", "b.py": 3})  # type: ignore[dict-item]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated"]
    assert (target / "a.py").read_text() == "old\n"
    assert not (target / "b.py").exists()


# --- bad input: one line naming the file and pointer, exit 2, nothing written ---------------------


def _config_copy(tmp_path: Path, **edits: str) -> Path:
    """A copy of spec/ in tmp_path (with its own generated/ beside it), with config text edits."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "spec", root / "spec")
    config = root / "spec" / "respkit.yaml"
    text = config.read_text().replace("local: ../shared/spec/openai-openapi.yaml", f"local: {SPEC}")
    for old, new in edits.items():
        text = text.replace(old, new)
    config.write_text(text)
    return config


def _bad(tmp_path: Path, config: Path, *extra: str) -> str:
    out = tmp_path / "out"
    result = respkit("generate", "--config", str(config), "--out", str(out), *extra)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert not out.exists(), "nothing may be written"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_missing_upstream(tmp_path: Path) -> None:
    line = _bad(tmp_path, _config_copy(tmp_path), "--spec", str(tmp_path / "nope.yaml"))
    assert "nope.yaml: spec file not found" in line


def test_malformed_upstream(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\npaths: {a: [}\n")
    config = _config_copy(tmp_path)
    digest = hashlib.sha256(broken.read_bytes()).hexdigest()
    text = config.read_text()
    config.write_text(text.replace("db5d7478feae10b4d331834c60d9765a8aa042e38419f9b1694288c11aa8ebc8", digest))
    line = _bad(tmp_path, config, "--spec", str(broken))
    assert "broken.yaml: not valid YAML (line 2" in line


def test_sha256_mismatch(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_bytes(SPEC.read_bytes() + b"\n# changed\n")
    line = _bad(tmp_path, _config_copy(tmp_path), "--spec", str(other))
    assert "other.yaml: sha256 mismatch: pinned db5d7478feae" in line


def test_path_not_in_spec(tmp_path: Path) -> None:
    config = _config_copy(tmp_path, **{"  - /responses/*\n": "  - /responses/*\n  - /no/such/path\n"})
    line = _bad(tmp_path, config)
    # the spec is named as read: the shared copy's name, or the pinned URL's (from the cache, in a fresh clone)
    assert re.search(r"open(ai-)?api\.yaml#/paths: no path matches '/no/such/path'", line), line


def test_dangling_ref(tmp_path: Path) -> None:
    text = SPEC.read_text(encoding="utf-8").replace(
        "$ref: '#/components/schemas/ResponseUsage'", "$ref: '#/components/schemas/NoSuchUsage'", 1
    )
    if "NoSuchUsage" not in text:
        text = text.replace('$ref: "#/components/schemas/ResponseUsage"', '$ref: "#/components/schemas/NoSuchUsage"', 1)
    assert "NoSuchUsage" in text
    broken = tmp_path / "dangling.yaml"
    broken.write_text(text, encoding="utf-8")
    config = _config_copy(tmp_path)
    config.write_text(
        config.read_text().replace(
            "db5d7478feae10b4d331834c60d9765a8aa042e38419f9b1694288c11aa8ebc8",
            hashlib.sha256(broken.read_bytes()).hexdigest(),
        )
    )
    line = _bad(tmp_path, config, "--spec", str(broken))
    assert "dangling.yaml#/" in line and "dangling $ref '#/components/schemas/NoSuchUsage'" in line


def test_overlay_target_that_does_not_resolve(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    (config.parent / "overlays" / "tool-discriminator-mapping.yaml").write_text(
        "actions:\n  - target: /components/schemas/NoSuchTool/discriminator/mapping\n    set: {}\n"
    )
    line = _bad(tmp_path, config)
    assert "tool-discriminator-mapping.yaml#/actions/0/target" in line and "does not resolve" in line


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("rename: oneOf", "InputItem/discriminator: cannot rename to 'oneOf' (not a mapping key, or taken)"),
        ("rename: ''", "#/actions/0/rename: expected the new key"),
    ],
)
def test_a_rename_that_cannot_be_done(tmp_path: Path, action: str, message: str) -> None:
    config = _config_copy(tmp_path)
    (config.parent / "overlays" / "input-item-any-of.yaml").write_text(
        f"actions:\n  - target: /components/schemas/InputItem/discriminator\n    {action}\n"
    )
    line = _bad(tmp_path, config)
    assert "input-item-any-of.yaml#/actions/0" in line and line.endswith(message), line


def test_an_overlay_that_leaves_a_dangling_ref(tmp_path: Path) -> None:
    config = _config_copy(tmp_path)
    (config.parent / "overlays" / "tool-discriminator-mapping.yaml").write_text(
        "actions:\n  - target: /components/schemas/Tool/discriminator/mapping\n"
        "    set: {web_search: '#/components/schemas/NoSuchTool'}\n"
    )
    line = _bad(tmp_path, config)
    assert line.endswith(
        "tool-discriminator-mapping.yaml#/actions: leaves a dangling $ref '#/components/schemas/NoSuchTool' "
        "at /components/schemas/Tool/discriminator/mapping/web_search"
    ), line


def test_version_names_the_release_and_the_spec() -> None:
    import json
    from importlib import metadata

    from respkit.generator.pipeline import RESPKIT_VERSION

    assert metadata.version("respkit") == RESPKIT_VERSION  # the manifest's version is the release's
    sha = json.loads((REPO / "generated" / "manifest.json").read_text())["upstream"]["sha256"]
    result = respkit("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"respkit {RESPKIT_VERSION}; generated from openai-openapi.yaml (sha256 {sha[:12]})"
