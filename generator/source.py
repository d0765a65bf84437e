"""Reading an OpenAPI description from a path or a URL, checking its sha256, parsing it."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from respkit.generator.cache import cache_root, keep_parsed, load_parsed
from respkit.generator.config import display_path
from respkit.generator.errors import SpecError

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
    #: the file name it goes by, where it differs from the source's (a cached copy keeps its first name)
    named: str = ""

    @property
    def name(self) -> str:
        return self.named or _file_name(self.source)


def _file_name(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1]


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


#: what to do when a spec cannot be fetched, per command (each names an option that command has)
OFFLINE_HINT = "; give a local copy with --spec PATH or RESPKIT_SPEC"
UPDATE_HINT = "; give a local copy with --from PATH"
DIFF_HINT = "; give a local copy as OLD or NEW"
UNPINNED_HINT = "name the file with --spec PATH or RESPKIT_SPEC (the pin has no URL: it was read from a local file)"


def read_bytes(source: str, hint: str = OFFLINE_HINT) -> bytes:
    """A spec's bytes, at most `--max-spec-bytes` of them."""
    return _download(source, hint) if is_url(source) else _read_file(Path(source))


def _too_large(where: str, found: str) -> SpecError:
    from respkit.conformance.limits import current, option

    bound = current().max_spec_bytes
    return SpecError(where, "", f"{found}, more than {option('max_spec_bytes')} {bound} bytes allows")


def _download(url: str, hint: str) -> bytes:
    import httpx

    from respkit.conformance.limits import current

    bound, chunks, got = current().max_spec_bytes, [], 0
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            if response.status_code != 200:
                raise SpecError(url, "", f"cannot fetch (HTTP {response.status_code}){hint}")
            for chunk in response.iter_bytes():
                got += len(chunk)
                if got > bound:
                    raise _too_large(url, f"the download passed {bound} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise SpecError(url, "", f"cannot fetch ({type(exc).__name__}){hint}") from None
    return b"".join(chunks)


def _read_file(path: Path) -> bytes:
    from respkit.conformance.limits import current

    try:
        if path.is_file() and (found := path.stat().st_size) > current().max_spec_bytes:
            raise _too_large(display_path(path), f"the file has {found} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise SpecError(display_path(path), "", "spec file not found") from None
    except IsADirectoryError:
        raise SpecError(display_path(path), "", "is a folder, not a spec file") from None
    except OSError as exc:
        raise SpecError(display_path(path), "", f"cannot read: {exc.strerror}") from None


#: documents parsed in this process, pickled, by the sha256 of their bytes: a command that reads one spec
#: twice (`spec update` reads the pinned spec and the new one; a diff of two copies) parses it once, and
#: each caller still gets its own copy to change (unpickling is ~20x faster than libyaml)
_PARSED: dict[str, bytes] = {}
_PARSED_KEPT = 4


def parse(source: str, data: bytes) -> dict[str, Any]:
    from respkit.conformance.limits import current

    digest = f"{hashlib.sha256(data).hexdigest()}.{current().max_yaml_nodes}"  # parsed under this bound
    if digest not in _PARSED:
        kept = load_parsed(digest)
        if kept is None:
            document = _parse(source, data)
            kept = (document, keep_parsed(digest, document))
        while len(_PARSED) >= _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]
        document, _PARSED[digest] = kept
        return document
    return pickle.loads(_PARSED[digest])  # type: ignore[no-any-return]  # bytes this process made


def _parse(source: str, data: bytes) -> dict[str, Any]:
    where = source if is_url(source) else display_path(Path(source))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(where, "", f"not UTF-8 (byte {exc.start})") from None
    is_json = text.lstrip().startswith("{")
    try:
        if not is_json:
            _within_nodes(where, text)
        document = json.loads(text) if is_json else yaml.load(text, Loader=_Loader)
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


#: an anchor (`&name`): without one a YAML document has no alias to expand
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s\[\]{},]")


def _within_nodes(where: str, text: str) -> None:
    """Refuse a YAML document whose aliases expand beyond `--max-yaml-nodes` nodes, before it is loaded:
    an alias bomb loads in no time as shared objects, then every walk over it takes forever."""
    from respkit.conformance.limits import current, option

    if _ANCHOR.search(text) is None:
        return
    bound = current().max_yaml_nodes
    if _expanded(text, bound) > bound:
        message = f"its aliases expand to more than {bound} nodes ({option('max_yaml_nodes')}): an alias bomb?"
        raise SpecError(where, "", message)


def _expanded(text: str, bound: int) -> int:
    """How many nodes the document has with its aliases expanded, counted from the parser's events (each
    anchor's size kept once); counting stops past `bound`."""
    sizes: dict[str, int] = {}
    open_nodes: list[list[Any]] = [[None, 0]]  # [anchor, nodes so far] of each open collection

    def add(count: int, anchor: str | None) -> None:
        if anchor is not None:
            sizes[anchor] = count
        open_nodes[-1][1] += count

    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            open_nodes.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, count = open_nodes.pop()
            add(count, anchor)
        elif isinstance(event, yaml.ScalarEvent):
            add(1, event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            add(sizes.get(str(event.anchor), 1), None)
        if open_nodes[-1][1] > bound:
            return int(open_nodes[-1][1])
    return int(open_nodes[0][1])


def load_spec(source: str, expected_sha256: str | None = None, hint: str = OFFLINE_HINT) -> Spec:
    """Read, verify (when a sha256 is given) and parse a spec; `hint` says how to do without the network.
    A pinned spec fetched once is kept, verified, in the user's cache (by sha256): the next run that cannot
    reach the URL reads that copy."""
    cached = _cached(expected_sha256) if (is_url(source) or not source) and expected_sha256 else None
    if not source and cached is None:
        where = f"the pinned spec (sha256 {(expected_sha256 or 'unknown')[:12]})"
        raise SpecError(where, "", f"no URL is pinned and no copy is cached: {UNPINNED_HINT}")
    data = cached[1] if cached is not None else read_bytes(source, hint)
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        where = source if is_url(source) else display_path(Path(source))
        raise SpecError(where, "", f"sha256 mismatch: pinned {expected_sha256}, file has {digest}")
    if expected_sha256 is not None and cached is None:
        _keep(digest, data, _file_name(source))
    named = cached[0] if cached is not None else ""
    return Spec(source=source, sha256=digest, document=parse(source, data), named=named)


def keep_verified(source: str, sha256: str) -> None:
    """Keep the spec at ``source`` in the cache when its bytes still have ``sha256`` (a pin without URL or copy
    is then read from there)."""
    if _cached(sha256) is None:
        data = read_bytes(source)
        if hashlib.sha256(data).hexdigest() == sha256:
            _keep(sha256, data, _file_name(source))


def cache_dir() -> Path:
    """Where verified copies of pinned specs are kept (`RESPKIT_CACHE_DIR`, else the user's cache folder)."""
    return cache_root() / "specs"


def _cached(sha256: str) -> tuple[str, bytes] | None:
    """The cached copy of the spec with this sha256 (its first file name, its bytes), if there is one and its
    bytes still have that sha256."""
    try:
        path = next(p for p in (cache_dir() / sha256).iterdir() if not p.name.startswith("."))
        data = path.read_bytes()
    except (OSError, StopIteration):
        return None
    return (path.name, data) if hashlib.sha256(data).hexdigest() == sha256 else None


def _keep(sha256: str, data: bytes, name: str) -> None:
    """Keep a verified spec in the cache, under its sha256 and its file name; a cache that cannot be written
    is no error (it only saves a fetch)."""
    folder = cache_dir() / sha256
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not any(p for p in folder.iterdir() if not p.name.startswith(".")):
            fd, tmp = tempfile.mkstemp(prefix=".spec.", dir=folder)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, folder / (name or "openapi.yaml"))
    except OSError:
        return
