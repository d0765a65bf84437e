"""`respkit spec update` in a temporary copy of the repository: the pin moves, generated/ follows, the
changelog names what changed; a failed update changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from respkit.conformance.cli import main
from respkit.generator import changelog, staging
from respkit.generator.errors import SpecError
from respkit.generator.output import write_tree
from respkit.generator.pin import pin_lines, put_lines, repin
from tests.paths import PREVIOUS_SPEC, REPO, SPEC, private_cache

NEW_SHA = "db5d7478feae10b4d331834c60d9765a8aa042e38419f9b1694288c11aa8ebc8"
OLD_SHA = "74cbcf73838f4cd7e209b2d3f2e9ddc9fa155f21a44360b6fac7646a6d4f5f8b"


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own spec cache: what an update keeps there is seen by that test alone."""
    folder = private_cache(tmp_path_factory.mktemp("cache"))
    monkeypatch.setenv("RESPKIT_CACHE_DIR", str(folder))
    return folder


def copy_repo(tmp_path: Path, spec: Path, sha: str) -> Path:
    """spec/ copied and pinned at ``spec``; generated/ holds a stale placeholder."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "spec", root / "spec")
    config = root / "spec" / "respkit.yaml"
    text = config.read_text().replace(NEW_SHA, sha)
    local = os.path.relpath(spec, root).replace(os.sep, "/")
    config.write_text(text.replace("local: ../shared/spec/openai-openapi.yaml", f"local: {local}"))
    write_tree(root / "generated", {"models.py": "# placeholder\n", "stale.py": "\n"})
    return root


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def update(root: Path, source: Path | str, capsys: pytest.CaptureFixture[str], *more: str) -> tuple[int, str, str]:
    code = main(["spec", "update", "--from", str(source), "--config", str(root / "spec" / "respkit.yaml"), *more])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_update_from_the_older_spec_to_the_newer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, PREVIOUS_SPEC, OLD_SHA)
    before = (root / "spec" / "respkit.yaml").read_text()
    code, out, err = update(root, SPEC, capsys)
    assert (code, err) == (0, ""), err
    assert "sha256 db5d7478feae" in out

    after = (root / "spec" / "respkit.yaml").read_text()
    pin = yaml.safe_load(after)["upstream"]
    # a file outside the repository: no path of this machine in the pin, and no URL nobody named
    assert pin == {"url": None, "sha256": NEW_SHA}
    assert "# local: (none" in after and "url: null  # unpinned" in after
    comments = [line for line in before.splitlines() if line.lstrip().startswith("# ") and "local:" not in line]
    assert comments == [line for line in after.splitlines() if line.lstrip().startswith("# ") and "local:" not in line]
    assert len(before.splitlines()) == len(after.splitlines())

    manifest = json.loads((root / "generated" / "manifest.json").read_text())
    assert manifest["upstream"]["sha256"] == NEW_SHA
    assert not (root / "generated" / "stale.py").exists()

    log = (root / "spec" / "CHANGELOG.md").read_text()
    assert log.startswith("# Spec changelog")
    assert f"(sha256 {NEW_SHA[:12]})" in log and f"sha256 {OLD_SHA[:12]}" in log
    for event in ("response.shell_call_command.added", "response.shell_call_output_content.done"):
        assert f"| `stream event {event}` |" in log
    assert "| `Response.moderation` | property added (optional) |" in log
    assert "pinned openai-openapi.yaml (sha256" in log  # named by its file name: no machine path in the log
    written = "".join(line for line in log.splitlines() if not line.startswith(changelog.RECORD))  # the record
    assert str(tmp_path) not in written and str(SPEC.parent) not in written  # keeps the old lines as they were
    assert str(SPEC.parent) not in after

    # the unpinned spec is read from the cache, where the update kept it verified
    assert main(["generate", "--check", "--config", str(root / "spec" / "respkit.yaml")]) == 0
    assert "is up to date" in capsys.readouterr().out


@pytest.mark.slow
def test_url_names_where_a_local_file_came_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, PREVIOUS_SPEC, OLD_SHA)
    url = "https://example.test/openai-openapi/abc/openapi.yaml"
    code, _, err = update(root, SPEC, capsys, "--url", url)
    assert (code, err) == (0, ""), err
    assert yaml.safe_load((root / "spec" / "respkit.yaml").read_text())["upstream"] == {"url": url, "sha256": NEW_SHA}
    assert f"pinned {url} (sha256" in (root / "spec" / "CHANGELOG.md").read_text()
    before = snapshot(root)
    line = failed_update(root, "https://example.test/other.yaml", capsys, "--url", url)
    assert "--url names where a local --from file came from" in line
    assert snapshot(root) == before


def test_a_copy_inside_the_repository_is_pinned_as_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, PREVIOUS_SPEC, OLD_SHA)
    (root / "vendor").mkdir()
    shutil.copy(SPEC, root / "vendor" / "openapi.yaml")
    code, _, err = update(root, root / "vendor" / "openapi.yaml", capsys)
    assert (code, err) == (0, ""), err
    pin = yaml.safe_load((root / "spec" / "respkit.yaml").read_text())["upstream"]
    assert pin == {"url": None, "sha256": NEW_SHA, "local": "vendor/openapi.yaml"}


@pytest.mark.slow
def test_there_and_back_leaves_every_file_as_it_was(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, SPEC, NEW_SHA)
    assert main(["generate", "--force", "--config", str(root / "spec" / "respkit.yaml")]) == 0  # over the placeholder
    capsys.readouterr()
    before = snapshot(root)
    code, _, _ = update(root, PREVIOUS_SPEC, capsys)
    assert code == 0 and snapshot(root) != before
    (root / "elsewhere.yaml").write_bytes(SPEC.read_bytes())  # back through another copy of the same bytes
    code, out, err = update(root, root / "elsewhere.yaml", capsys)
    (root / "elsewhere.yaml").unlink()
    assert code == 0, err
    assert "moved back" in out
    assert snapshot(root) == before


def test_the_previous_spec_must_be_read_for_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gone = tmp_path / "gone.yaml"
    gone.write_bytes(PREVIOUS_SPEC.read_bytes())
    root = copy_repo(tmp_path, gone, OLD_SHA)
    text = (root / "spec" / "respkit.yaml").read_text()
    (root / "spec" / "respkit.yaml").write_text(text.replace("url: https://", "url: http://127.0.0.1:9/"))
    gone.unlink()
    line = failed_update(root, SPEC, capsys)
    assert "give a copy of it with --previous PATH" in line
    code, out, err = update(root, SPEC, capsys, "--previous", str(PREVIOUS_SPEC))
    assert (code, err) == (0, ""), err
    assert "changes," in out and "breaking" in out


def test_a_second_update_adds_an_entry_on_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, SPEC, NEW_SHA)
    (root / "spec" / "CHANGELOG.md").write_text("# Spec changelog\n\nintro\n\n## 2026-01-01: pinned x\n\nold entry\n")
    code, _, err = update(root, SPEC, capsys)
    assert (code, err) == (0, "")
    log = (root / "spec" / "CHANGELOG.md").read_text()
    assert log.index("intro") < log.index("pinned openai-openapi.yaml") < log.index("## 2026-01-01: pinned x")
    assert "- no changes" in log
    assert main(["generate", "--check", "--config", str(root / "spec" / "respkit.yaml")]) == 0
    capsys.readouterr()


def failed_update(root: Path, source: Path | str, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    before = snapshot(root)
    code, out, err = update(root, source, capsys, *more)
    assert (code, out) == (2, "")
    assert snapshot(root) == before
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_an_unparsable_spec_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, PREVIOUS_SPEC, OLD_SHA)
    bad = tmp_path / "broken.yaml"
    bad.write_text("openapi: 3.1.0\npaths:\n  /responses: {post: [\n")
    line = failed_update(root, bad, capsys)
    assert "broken.yaml: not valid YAML (line" in line


def test_a_spec_without_responses_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, PREVIOUS_SPEC, OLD_SHA)
    other = tmp_path / "other.yaml"
    other.write_text(
        yaml.safe_dump({"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {"/chat/completions": {}}})
    )
    line = failed_update(root, other, capsys)
    assert "other.yaml#/paths: no path matches '/responses'" in line


def test_an_erratum_without_a_target_is_skipped_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # one erratum unrequires `cache_write_tokens`, a field the older spec does not have yet: moot there
    root = copy_repo(tmp_path, SPEC, NEW_SHA)
    code, _, err = update(root, PREVIOUS_SPEC, capsys)
    assert code == 0
    (note,) = err.splitlines()
    assert note.startswith("respkit: note: erratum skipped, no target in this spec: spec/errata/openai-traffic.yaml#")
    assert note.endswith("does not require cache_write_tokens")
    log = (root / "spec" / "CHANGELOG.md").read_text()
    assert "Errata skipped, this spec version has no target for them" in log
    assert "- `spec/errata/openai-traffic.yaml#/actions/" in log
    manifest = json.loads((root / "generated" / "manifest.json").read_text())
    assert [m.split(": ", 1)[1] for m in manifest["moot"]] == [note.rsplit(": ", 1)[1]]
    bundle = json.loads((root / "generated" / "schema.json").read_text())
    assert "cache_write_tokens" not in json.dumps(bundle["x-respkit-errata"])  # the checks never see it
    assert main(["generate", "--check", "--config", str(root / "spec" / "respkit.yaml")]) == 0
    capsys.readouterr()


def test_a_malformed_erratum_still_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_repo(tmp_path, SPEC, NEW_SHA)
    errata = root / "spec" / "errata" / "openai-traffic.yaml"
    errata.write_text(errata.read_text().replace("- target: /components", "- target: components", 1))
    line = failed_update(root, PREVIOUS_SPEC, capsys)
    assert line.endswith("openai-traffic.yaml#/actions/0/target: not a JSON Pointer"), line


def test_a_pinned_config_with_another_sha256_is_refused_by_generate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_repo(tmp_path, SPEC, "ab" * 32)
    before = snapshot(root)
    assert main(["generate", "--config", str(root / "spec" / "respkit.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sha256 mismatch: pinned abab" in err
    assert snapshot(root) == before


def test_a_failed_swap_puts_everything_back(tmp_path: Path) -> None:
    tree, first, second = tmp_path / "generated", tmp_path / "a.txt", tmp_path / "b.txt"
    write_tree(tree, {"x.py": "old\n"})
    first.write_text("first\n")
    second.write_text("second\n")
    before = snapshot(tmp_path)
    calls: list[Path] = []

    def flaky(path: Path, staged: Path) -> Callable[[], None]:
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return staging._swap_text(path, staged)

    with pytest.raises(OSError, match="disk full"):
        staging.commit({first: "new\n", second: "new\n"}, tree, {"y.py": "new\n"}, swap_text=flaky)
    assert calls == [first, second]
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt", "generated"]


def test_a_url_pin_retires_the_local_copy_and_keeps_the_comments() -> None:
    before = (REPO / "spec" / "respkit.yaml").read_text()
    url = "https://example.test/openai-openapi/abc123/openapi.yaml"
    after = repin(before, "spec/respkit.yaml", sha256="cd" * 32, url=url, local=None)
    pin = yaml.safe_load(after)["upstream"]
    assert pin == {"url": url, "sha256": "cd" * 32}
    assert [line for line in before.splitlines() if line.startswith("#")] == [
        line for line in after.splitlines() if line.startswith("#")
    ]
    assert after.splitlines()[len(before.splitlines()) - 1] == before.splitlines()[-1]
    assert put_lines(after, "spec/respkit.yaml", pin_lines(before, "spec/respkit.yaml")) == before


def test_a_local_pin_is_added_when_the_config_has_none() -> None:
    before = "# pin\nupstream:\n  url: https://example.test/a.yaml  # where\n  sha256: " + "ab" * 32 + "\npaths: [/x]\n"
    after = repin(before, "respkit.yaml", sha256="cd" * 32, url=None, local="copies/new spec.yaml")
    assert yaml.safe_load(after)["upstream"] == {"url": None, "sha256": "cd" * 32, "local": "copies/new spec.yaml"}
    assert '  local: "copies/new spec.yaml"\n' in after
    assert put_lines(after, "respkit.yaml", pin_lines(before, "respkit.yaml")) != before  # the added line stays
    assert yaml.safe_load(put_lines(after, "respkit.yaml", pin_lines(before, "respkit.yaml")))["upstream"]["url"]


def test_a_pin_in_flow_style_is_one_clear_error() -> None:
    # the pin is edited line by line; a one-line mapping has no lines to edit, so say so
    with pytest.raises(SpecError, match=r"respkit.yaml#/upstream: no top-level `upstream:` line to edit"):
        repin("upstream: {url: x, sha256: y}\n", "respkit.yaml", sha256="cd" * 32, url=None, local=None)
