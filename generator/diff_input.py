"""The two sides of `respkit spec diff`: each a spec (path or URL) or a spec config, taken to the closure
of its `/responses` paths, with the overlays applied where they apply to both sides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from respkit.generator.closure import closure
from respkit.generator.config import DEFAULT_CONFIG, Config, display_path, load_config
from respkit.generator.diff import SpecDiff, diff, version
from respkit.generator.errors import SpecError
from respkit.generator.overlay import apply, load_overlay
from respkit.generator.source import DIFF_HINT, Spec, is_url, load_spec

DEFAULT_PATHS = ("/responses", "/responses/*")
CONFIG_MAX_BYTES = 256_000


@dataclass(frozen=True)
class Side:
    where: str
    sha256: str
    document: dict[str, Any]  # the closure, before overlays
    overlays: tuple[Path, ...]


def looks_like_config(source: str) -> bool:
    """A small local YAML file with an ``upstream`` block and no ``openapi`` key is a spec config."""
    if is_url(source):
        return False
    path = Path(source)
    if not path.is_file() or path.stat().st_size > CONFIG_MAX_BYTES:
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and isinstance(data.get("upstream"), dict) and "openapi" not in data


def pinned_source(config: Config) -> str:
    """Where a config's pin points: its local copy when it exists, else its URL, else "" (the cached copy)."""
    if config.upstream.local:
        local = (config.root / config.upstream.local).resolve()
        if local.exists():
            return str(local)
    return config.upstream.url or ""


def _where(source: str) -> str:
    return source if is_url(source) else display_path(Path(source))


def side_of(spec: Spec, paths: tuple[str, ...], overlays: tuple[Path, ...], name: str | None = None) -> Side:
    """A side from a loaded spec; ``name`` is how reports call it (default: where it was read from)."""
    where = _where(spec.source)
    return Side(name or where, spec.sha256, closure(spec.document, paths, where).document, overlays)


def load_side(source: str) -> Side:
    """A spec file or URL (read through the default config's paths and overlays), or a spec config
    (its pinned spec, sha256 checked, its paths and overlays)."""
    if looks_like_config(source):
        config = load_config(Path(source))
        spec = load_spec(pinned_source(config), config.upstream.sha256, DIFF_HINT)
        return side_of(spec, config.paths, config.overlays)
    if DEFAULT_CONFIG.is_file():
        default = load_config()
        return side_of(load_spec(source, hint=DIFF_HINT), default.paths, default.overlays)
    return side_of(load_spec(source, hint=DIFF_HINT), DEFAULT_PATHS, ())


def patched(old: Side, new: Side) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Both closures with the overlays applied; an overlay that fails on either side is skipped on both."""
    a, b, notes = old.document, new.document, []
    for path in dict.fromkeys([*old.overlays, *new.overlays]):
        item = load_overlay(path)
        try:
            a2 = apply(a, item) if path in old.overlays else a
            b2 = apply(b, item) if path in new.overlays else b
        except SpecError as exc:
            notes.append(f"overlay not applied to either side: {exc}")
            continue
        a, b = a2, b2
    return a, b, notes


def compare(old: Side, new: Side) -> SpecDiff:
    a, b, notes = patched(old, new)
    return SpecDiff(
        old=version(old.where, old.sha256, a),
        new=version(new.where, new.sha256, b),
        changes=tuple(diff(a, b)),
        notes=tuple(notes),
    )


def compare_sources(old: str, new: str) -> SpecDiff:
    return compare(load_side(old), load_side(new))
