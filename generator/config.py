"""spec/respkit.yaml: the pin of the upstream spec, the paths to take, overlays and errata."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from respkit.generator.errors import SpecError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "spec" / "respkit.yaml"
SPEC_ENV = "RESPKIT_SPEC"


@dataclass(frozen=True)
class Upstream:
    url: str | None  # None: unpinned (the spec came from a local file; read it from `local` or the cache)
    sha256: str
    local: str | None = None

    @property
    def name(self) -> str | None:
        """The file name the pinned spec goes by in generated output: its copy's, else its URL's."""
        named = self.local or self.url
        return named.rstrip("/").rsplit("/", 1)[-1] if named else None


@dataclass(frozen=True)
class Config:
    path: Path
    upstream: Upstream
    paths: tuple[str, ...]
    overlays: tuple[Path, ...] = field(default_factory=tuple)
    errata: tuple[Path, ...] = field(default_factory=tuple)
    readers: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def spec_dir(self) -> Path:
        return self.path.parent

    @property
    def root(self) -> Path:
        """The folder that relative `local` paths start from: the repository root."""
        return self.spec_dir.parent

    def source(self, override: str | None = None) -> str:
        """Where to read the upstream from: an override, $RESPKIT_SPEC, the local copy, else the URL ("" when
        there is none: the verified copy in the cache, by sha256)."""
        chosen = override or os.environ.get(SPEC_ENV)
        if chosen:
            return chosen
        if self.upstream.local:
            local = (self.root / self.upstream.local).resolve()
            if local.exists():
                return str(local)
        return self.upstream.url or ""


def _require(data: dict[str, Any], key: str, kind: type, where: str, pointer: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise SpecError(where, f"{pointer}/{key}", f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def load_config(path: Path | None = None) -> Config:
    path = (path or DEFAULT_CONFIG).resolve()
    where = _display(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(where, "", "config file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise SpecError(where, "", f"not valid YAML{line}") from None
    if not isinstance(data, dict):
        raise SpecError(where, "", "expected a mapping at the top level")
    up = _require(data, "upstream", dict, where, "")
    url = up.get("url") if "url" in up else _require(up, "url", str, where, "/upstream")
    if url is not None and not isinstance(url, str):
        raise SpecError(where, "/upstream/url", "expected a URL, or null for a spec read from a local file")
    sha = _require(up, "sha256", str, where, "/upstream")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise SpecError(where, "/upstream/sha256", "expected 64 lowercase hex digits")
    local = up.get("local")
    if local is not None and not isinstance(local, str):
        raise SpecError(where, "/upstream/local", "expected a path")
    paths = _require(data, "paths", list, where, "")
    for i, p in enumerate(paths):
        if not isinstance(p, str) or not p.startswith("/"):
            raise SpecError(where, f"/paths/{i}", f"expected a path template starting with '/', got {p!r}")

    def files(key: str) -> tuple[Path, ...]:
        items = data.get(key) or []
        if not isinstance(items, list):
            raise SpecError(where, f"/{key}", "expected a list of files")
        out = []
        for i, item in enumerate(items):
            file = path.parent / str(item)
            if not file.is_file():
                raise SpecError(where, f"/{key}/{i}", f"file not found: {item}")
            out.append(file)
        return tuple(out)

    return Config(
        path=path,
        upstream=Upstream(url=url, sha256=sha, local=local),
        paths=tuple(paths),
        overlays=files("overlays"),
        errata=files("errata"),
        readers=files("readers"),
    )


def _display(path: Path) -> str:
    """A path as users see it: relative to the working directory when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


display_path = _display
