"""`respkit spec update`: check a new spec against the config, move the pin, regenerate, log the diff.

Everything is computed first (the new spec parsed, its closure taken, overlays, errata and readers
applied, the package rendered, the pin edited, the changelog entry written in memory); only then are
spec/respkit.yaml, spec/CHANGELOG.md and generated/ replaced together. The folder written is the one
beside the config's spec/ folder, so an update of a copy of the repository writes that copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from respkit.generator import changelog
from respkit.generator.config import Config, display_path, load_config
from respkit.generator.diff import SpecDiff
from respkit.generator.diff_input import Side, compare, pinned_source, side_of
from respkit.generator.errors import SpecError
from respkit.generator.overlay import Moot
from respkit.generator.pin import repin
from respkit.generator.pipeline import Prepared, prepare, render
from respkit.generator.source import UPDATE_HINT, is_url, load_spec
from respkit.generator.staging import commit


@dataclass(frozen=True)
class Updated:
    config: Path
    generated: Path
    changelog: Path
    source: str
    sha256: str
    files: int
    summary: str
    moot: tuple[Moot, ...] = ()


def _previous(config: Config) -> tuple[Side | None, str]:
    """The currently pinned spec's closure, or why it cannot be read (the update goes on without a diff)."""
    try:
        spec = load_spec(pinned_source(config), config.upstream.sha256)
    except SpecError as exc:
        return None, str(exc)
    name = config.upstream.local or config.upstream.url
    return side_of(spec, config.paths, config.overlays, name), ""


def _pin_value(config: Config, source: str) -> dict[str, str]:
    if is_url(source):
        return {"url": source}
    return {"local": os.path.relpath(Path(source).resolve(), config.root).replace(os.sep, "/")}


def _summary(diff: SpecDiff | None) -> str:
    if diff is None:
        return "no diff: the previous pin could not be read"
    return f"{len(diff.changes)} changes, {diff.breaking} breaking"


def update(config_path: Path | None, source: str) -> Updated:
    config = load_config(config_path)
    prepared: Prepared = prepare(config, source, verify=False, hint=UPDATE_HINT)
    files = render(prepared)
    previous, why = _previous(config)
    pin = _pin_value(config, source)
    pinned = next(iter(pin.values()))
    current = side_of(prepared.spec, config.paths, config.overlays, pinned)
    diff = compare(previous, current) if previous else None
    text = repin(config.path.read_text(encoding="utf-8"), display_path(config.path), sha256=prepared.spec.sha256, **pin)
    log_path = config.spec_dir / "CHANGELOG.md"
    existing = log_path.read_text(encoding="utf-8") if log_path.exists() else None
    when = datetime.now(UTC).date()
    new_entry = changelog.entry(diff, pinned, prepared.spec.sha256, when, why, moot=prepared.moot)
    generated = config.root / "generated"
    commit({config.path: text, log_path: changelog.prepend(existing, new_entry)}, generated, files)
    summary = _summary(diff)
    return Updated(config.path, generated, log_path, pinned, prepared.spec.sha256, len(files), summary, prepared.moot)
