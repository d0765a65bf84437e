"""Reading an OpenAPI description from a path or a URL, checking its sha256, parsing it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.config import display_path
from generator.errors import SpecError

try:  # libyaml reads the 3 MB upstream about six times faster than the pure-Python loader
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class Spec:
    """A parsed spec: where it came from, its bytes' sha256 and its document."""

    source: str
    sha256: str
    document: dict[str, Any]

    @property
    def name(self) -> str:
        return self.source.rstrip("/").rsplit("/", 1)[-1]


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


OFFLINE_HINT = "; give a local copy with --spec PATH or RESPKIT_SPEC"


def read_bytes(source: str) -> bytes:
    if is_url(source):
        import httpx

        try:
            response = httpx.get(source, follow_redirects=True, timeout=60)
        except httpx.HTTPError as exc:
            raise SpecError(source, "", f"cannot fetch ({type(exc).__name__}){OFFLINE_HINT}") from None
        if response.status_code != 200:
            raise SpecError(source, "", f"cannot fetch (HTTP {response.status_code}){OFFLINE_HINT}")
        return response.content
    path = Path(source)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SpecError(display_path(path), "", "spec file not found") from None
    except IsADirectoryError:
        raise SpecError(display_path(path), "", "is a folder, not a spec file") from None
    except OSError as exc:
        raise SpecError(display_path(path), "", f"cannot read: {exc.strerror}") from None


def parse(source: str, data: bytes) -> dict[str, Any]:
    where = source if is_url(source) else display_path(Path(source))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(where, "", f"not UTF-8 (byte {exc.start})") from None
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as exc:
        raise SpecError(where, "", f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "parse error"
        raise SpecError(where, "", f"not valid YAML{at}: {problem}") from None
    if not isinstance(document, dict):
        raise SpecError(where, "", "not an OpenAPI document (expected a mapping at the top level)")
    if not str(document.get("openapi", "")).startswith("3."):
        raise SpecError(where, "/openapi", "not an OpenAPI 3.x document")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(where, "/paths", "missing or not a mapping")
    return document


def load_spec(source: str, expected_sha256: str | None = None) -> Spec:
    """Read, verify (when a sha256 is given) and parse a spec."""
    data = read_bytes(source)
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        where = source if is_url(source) else display_path(Path(source))
        raise SpecError(where, "", f"sha256 mismatch: pinned {expected_sha256}, file has {digest}")
    return Spec(source=source, sha256=digest, document=parse(source, data))
