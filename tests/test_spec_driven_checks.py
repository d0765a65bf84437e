"""The checks follow the spec: a package generated from the older spec reads the corpus, and reports the
event types the newer spec added as unknown to that version (never a crash); the current one knows them.

Nothing here holds a list of event types: the older package is generated in a temporary folder, and
the events it must not know are those `respkit spec diff` reports as added."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

from respkit.generator.config import load_config
from respkit.generator.diff_input import compare_sources
from tests.paths import CORPUS, PREVIOUS_SPEC, REPO, SPEC
from tests.test_spec_diff import event_types, raw

OLD_SHA = "74cbcf73838f4cd7e209b2d3f2e9ddc9fa155f21a44360b6fac7646a6d4f5f8b"
OLD_PACKAGE = "oldspec_respkit_test"


@pytest.fixture(scope="module")
def old_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spec config pinned at the older spec, and the package generated from it (via the command line)."""
    root = tmp_path_factory.mktemp("older")
    shutil.copytree(REPO / "spec", root / "spec")
    config = root / "spec" / "respkit.yaml"
    text = config.read_text().replace(load_config().upstream.sha256, OLD_SHA)
    local = os.path.relpath(PREVIOUS_SPEC, root).replace(os.sep, "/")
    config.write_text(text.replace("local: ../shared/spec/openai-openapi.yaml", f"local: {local}"))
    command = [
        sys.executable,
        "-m",
        "respkit.conformance",
        "generate",
        "--spec",
        str(PREVIOUS_SPEC),
        "--out",
        str(root / "pkgs"),
        "--package",
        OLD_PACKAGE,
        "--config",
        str(config),
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # the one erratum whose field the older spec does not have yet is skipped, and said so
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 1 and "erratum skipped, no target in this spec" in notes[0], notes
    assert "openai-traffic.yaml#/actions/1: " in notes[0] and "cache_write_tokens" in notes[0]
    return root


@pytest.fixture(scope="module")
def packages(old_root: Path) -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(old_root / "pkgs"))
    try:
        old = importlib.import_module(OLD_PACKAGE)
        yield old, importlib.import_module("respkit.generated")
    finally:
        sys.path.remove(str(old_root / "pkgs"))
        for name in [n for n in sys.modules if n == OLD_PACKAGE or n.startswith(OLD_PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def shared_changes() -> list[tuple[str, str]]:
    return [(c.subject, c.kind) for c in compare_sources(str(PREVIOUS_SPEC), str(SPEC)).changes]


@pytest.fixture(scope="module")
def added_event_types(shared_changes: list[tuple[str, str]]) -> list[str]:
    return [subject.removeprefix("stream event ") for subject, kind in shared_changes if kind == "event-type-added"]


# --- a replay of stream events against one generated package -------------------------------------


@dataclass(frozen=True)
class Read:
    where: str
    type: str
    outcome: str  # known | unknown | invalid
    message: str


def read_event(package: ModuleType, where: str, data: dict[str, Any]) -> Read:
    manifest = json.loads(Path(str(package.__file__)).with_name("manifest.json").read_text())
    version = f"{manifest['upstream']['name']} (sha256 {manifest['upstream']['sha256'][:12]})"
    etype = str(data.get("type"))
    try:
        event = package.parse_event(data)
    except ValidationError as exc:
        missing = sorted({str(e["loc"][-1]) for e in exc.errors() if e["type"] == "missing"})
        return Read(where, etype, "invalid", f"{where}: {etype} is invalid for {version}: missing {missing}")
    if isinstance(event, package.UnknownEvent):
        assert event.raw == data
        return Read(where, etype, "unknown", f"{where}: event type {etype!r} is unknown to {version}")
    assert type(event).__name__ == package.EVENT_TYPES[etype]
    return Read(where, etype, "known", "")


def corpus_events() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(CORPUS.rglob("*.sse")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
                out.append((f"{path.relative_to(CORPUS)}:{i + 1}", json.loads(line[5:])))
    assert len(out) > 900
    return out


def instance(schemas: dict[str, Any], node: dict[str, Any]) -> Any:
    """The smallest value a schema accepts, built from the schema (required properties only)."""
    while "$ref" in node:
        node = schemas[node["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf"):
        if key in node:
            return instance(schemas, next(m for m in node[key] if m.get("type") != "null"))
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type", "object")
    if kind == "object":
        return {name: instance(schemas, node["properties"][name]) for name in node.get("required", [])}
    return {"string": "x", "integer": 0, "number": 0.5, "boolean": False, "array": []}[kind]


def new_events(added: list[str]) -> list[tuple[str, dict[str, Any]]]:
    bundle = json.loads((REPO / "generated" / "schema.json").read_text())
    schemas = bundle["components"]["schemas"]
    union = schemas["ResponseStreamEvent"]["anyOf"]
    names = [v["$ref"].rsplit("/", 1)[-1] for v in union]
    by_tag = {tag: name for name in names for tag in schemas[name]["properties"]["type"].get("enum", [])}
    return [(f"synthetic {tag}", instance(schemas, schemas[by_tag[tag]])) for tag in added]


# --- the proof ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_each_package_knows_exactly_its_spec_versions_event_types(packages: tuple[ModuleType, ModuleType]) -> None:
    old, new = packages
    assert set(old.EVENT_TYPES) == event_types(raw(PREVIOUS_SPEC))
    assert set(new.EVENT_TYPES) == event_types(raw(SPEC))
    assert len(old.EVENT_TYPES) == 53 and len(new.EVENT_TYPES) == 58


def test_the_added_event_types_are_unknown_to_the_older_version(
    packages: tuple[ModuleType, ModuleType], added_event_types: list[str]
) -> None:
    old, new = packages
    assert len(added_event_types) == 5
    events = new_events(added_event_types)
    reads_old = [read_event(old, where, data) for where, data in events]
    assert [r.outcome for r in reads_old] == ["unknown"] * 5
    assert all("is unknown to openai-openapi.2026-06.yaml (sha256 74cbcf73838f)" in r.message for r in reads_old)
    assert [read_event(new, where, data).outcome for where, data in events] == ["known"] * 5


def test_the_corpus_replays_against_both_versions(packages: tuple[ModuleType, ModuleType]) -> None:
    old, new = packages
    events = corpus_events()
    reads = {p: [read_event(p, where, data) for where, data in events] for p in (old, new)}
    for package, found in reads.items():
        unknown = {r.type for r in found if r.outcome == "unknown"}
        assert unknown == {data["type"] for _, data in events} - set(package.EVENT_TYPES)
    assert [r.message for r in reads[new] if r.outcome == "invalid"] == []
    # the older spec required `query` in a web search action; OpenAI sends none while searching, and the
    # newer spec made it optional (the diff says so): the older version reports it, without crashing
    # (later recordings use items and tools the older spec does not define yet, e.g. `program`: it reports
    # those too, and the newer version reads every one of them, as asserted above)
    assert (
        "openai/web_search_stream.sse:8: response.output_item.added is invalid for openai-openapi.2026-06.yaml "
        "(sha256 74cbcf73838f): missing ['query']"
    ) in [r.message for r in reads[old] if r.outcome == "invalid"]


def test_the_diff_explains_what_the_older_version_rejects(shared_changes: list[tuple[str, str]]) -> None:
    assert ("WebSearchActionSearch.query", "property-optional") in shared_changes


def test_the_engine_reports_them_as_unknown_to_the_older_bundle(old_root: Path, added_event_types: list[str]) -> None:
    engine = pytest.importorskip("respkit.conformance.engine")
    schema = pytest.importorskip("respkit.conformance.schema")
    frames = b"".join(
        f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode() for _, data in new_events(added_event_types)
    )
    bundles = {
        "old": json.loads((old_root / "pkgs" / OLD_PACKAGE / "schema.json").read_text()),
        "new": json.loads((REPO / "generated" / "schema.json").read_text()),
    }
    unknown: dict[str, set[str]] = {}
    for name, bundle in bundles.items():
        findings = engine.check_stream([frames], validators=schema.SpecValidators(bundle), complete=False)
        unknown[name] = {str(f.received) for f in findings if f.check == "event_type_known"}
        assert all("74cbcf73838f" in f.message for f in findings if f.check == "event_type_known")
    assert unknown == {"old": set(added_event_types), "new": set()}
