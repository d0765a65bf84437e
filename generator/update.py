"""`respkit spec update`: check a new spec against the config, move the pin, regenerate, log the diff.

Everything is computed first (the new spec parsed, its closure taken, overlays, errata and readers
applied, the package rendered, the pin edited, the changelog entry written in memory); only then are
spec/respkit.yaml, spec/CHANGELOG.md and generated/ replaced together. The folder written is the one
beside the config's spec/ folder, so an update of a copy of the repository writes that copy.

The diff is always computed (the pinned spec is read from its copy, its URL or the cache, or named with
`--previous`). Moving back to the spec the newest changelog entry moved away from is an undo: the pin's
lines it recorded are put back and the entry is taken out, so there and back leaves the files as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from respkit.generator import changelog
from respkit.generator.config import Config, Upstream, display_path, load_config
from respkit.generator.diff import SpecDiff
from respkit.generator.diff_input import Side, compare, pinned_source, side_of
from respkit.generator.errors import SpecError
from respkit.generator.overlay import Moot
from respkit.generator.pin import Lines, pin_lines, put_lines, repin
from respkit.generator.pipeline import Prepared, named, prepare, render
from respkit.generator.source import UPDATE_HINT, is_url, keep_verified, load_spec
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


PREVIOUS_HINT = "the update diffs against the pinned spec: give a copy of it with --previous PATH"


def _previous(config: Config, previous: str | None) -> Side:
    """The currently pinned spec's closure, to diff against: from ``previous``, the pin's copy or URL, or the
    cache (every spec read with its sha256 is kept there). It must be read: an update always has its diff."""
    source = previous or pinned_source(config)
    try:
        spec = load_spec(source, config.upstream.sha256)
    except SpecError as exc:
        raise SpecError(exc.source, exc.pointer, f"{exc.message}; {PREVIOUS_HINT}") from None
    name = config.upstream.url or config.upstream.local or f"sha256 {config.upstream.sha256[:12]}"
    return side_of(spec, config.paths, config.overlays, name)


def _new_pin(config: Config, source: str, url: str | None) -> tuple[str | None, str | None]:
    """The URL and the local copy to pin: a URL source is its own URL; a local file gets ``--url`` or none
    (unpinned), and is written as `local` only inside the repository (no path of this machine)."""
    if is_url(source):
        return source, None
    path = Path(source).resolve()
    inside = path.is_relative_to(config.root.resolve())
    return url, path.relative_to(config.root.resolve()).as_posix() if inside else None


def _shown(source: str, url: str | None, local: str | None) -> str:
    """How the changelog and the console name the new spec: its URL, its copy in the repository, or its file
    name (never a path of this machine)."""
    return url or local or Path(source).name


@dataclass(frozen=True)
class _Move:
    """What an update writes: the config text, the changelog, how the new spec is named, a summary."""

    text: str
    log: str
    shown: str
    summary: str


def update(config_path: Path | None, source: str, url: str | None = None, previous: str | None = None) -> Updated:
    if url and is_url(source) and url != source:
        raise SpecError(url, "", "--url names where a local --from file came from; --from is already a URL")
    config = load_config(config_path)
    prepared: Prepared = prepare(config, source, verify=False, hint=UPDATE_HINT)
    old = _previous(config, previous)
    log_path = config.spec_dir / "CHANGELOG.md"
    existing = log_path.read_text(encoding="utf-8") if log_path.exists() else None
    move = _back(config, existing, prepared.spec.sha256, url) or _forward(
        config, existing, prepared, old, (source, url)
    )
    files = render(named(prepared, _pinned(move.text, display_path(config.path)).name))
    keep_verified(source, prepared.spec.sha256)
    generated = config.root / "generated"
    commit({config.path: move.text, log_path: move.log}, generated, files)
    sha = prepared.spec.sha256
    return Updated(config.path, generated, log_path, move.shown, sha, len(files), move.summary, prepared.moot)


def _forward(
    config: Config, existing: str | None, prepared: Prepared, old: Side, given: tuple[str, str | None]
) -> _Move:
    """The pin moved to the new spec, and a changelog entry on top with the diff and the lines it replaced."""
    where, sha = display_path(config.path), prepared.spec.sha256
    text = config.path.read_text(encoding="utf-8")
    new_url, local = _new_pin(config, *given)
    shown = _shown(given[0], new_url, local)
    diff = compare(old, side_of(prepared.spec, config.paths, config.overlays, shown))
    entry = changelog.entry(diff, shown, sha, datetime.now(UTC).date(), pin_lines(text, where), moot=prepared.moot)
    moved = repin(text, where, sha256=sha, url=new_url, local=local)
    return _Move(moved, changelog.prepend(existing, entry), shown, _summary(diff))


def _back(config: Config, existing: str | None, sha: str, url: str | None) -> _Move | None:
    """Moving back to the spec the newest entry moved away from: its recorded lines back, the entry out."""
    lines = _undo(config, existing, sha, url)
    if lines is None or existing is None:
        return None
    text = put_lines(config.path.read_text(encoding="utf-8"), display_path(config.path), lines)
    back = _pinned(text, display_path(config.path))
    summary = "moved back: the newest changelog entry, which moved away from this spec, is taken out"
    return _Move(text, changelog.drop_newest(existing), back.url or back.local or back.sha256[:12], summary)


def _pinned(text: str, where: str) -> Upstream:
    """The pin a config text holds (read back from the lines the update wrote)."""
    up = _upstream(yaml.safe_load(text), where)
    return Upstream(url=up.get("url"), sha256=str(up.get("sha256")), local=up.get("local"))


def _upstream(data: Any, where: str) -> dict[str, Any]:
    up = data.get("upstream") if isinstance(data, dict) else None
    if not isinstance(up, dict):
        raise SpecError(where, "/upstream", "the pin written has no upstream mapping")
    return up


def _undo(config: Config, existing: str | None, sha: str, url: str | None) -> Lines | None:
    """The pin lines to put back when this update returns to the spec the newest entry moved away from."""
    move = changelog.newest_move(existing)
    if move is None or move[0] != config.upstream.sha256:
        return None
    lines = move[1]
    try:
        back = _pinned("upstream:\n" + "".join(lines.values()), "the changelog's record")
    except (SpecError, yaml.YAMLError):
        return None
    return lines if back.sha256 == sha and (not url or back.url == url) else None


def _summary(diff: SpecDiff) -> str:
    return f"{len(diff.changes)} changes, {diff.breaking} breaking"
