"""Replay recorded examples: find `.json`, `.sse` and `.error.json` files, read each one's facts (its
sidecar `NAME.meta.yaml`, else a row of an `INDEX.md` table beside its folder), pick its profile
(`--profile`, else the sidecar's, else the folder's name), and check it."""

from __future__ import annotations

import errno
import fnmatch
import itertools
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from respkit.conformance.checks.context import make_finding
from respkit.conformance.engine import check_error, check_json_body, check_operation_body, check_stream
from respkit.conformance.findings import Finding, Severity, Source, after_head
from respkit.conformance.operations import FALLBACK, Match, infer
from respkit.conformance.profiles import DEFAULT, Profile, available, load_profile
from respkit.conformance.recordings import HERE as BUNDLED
from respkit.conformance.sse import head_through, looks_like_event_stream

SUFFIXES = (".error.json", ".sse", ".json")
CHUNK = 64 * 1024


class RecordingError(Exception):
    """A recording that cannot be read: one line naming the file."""


@dataclass(frozen=True)
class Recording:
    path: Path
    display: str
    kind: str  # json | stream | error
    provider: str
    profile: str
    status: int | None = None
    content_type: str | None = None
    complete: bool = True
    artifacts: tuple[tuple[str, str], ...] = ()
    drift: tuple[tuple[str, str, str], ...] = ()
    #: the operation whose answer this is (sidecar `operation`); None: told from the body (`operation_of`)
    operation: str | None = None
    #: checked live against a URL (a scenario or a schemathesis operation), not read from a file
    live: bool = False
    #: a stream resumed with `starting_after` (sidecar `resumes`): the recording it continues, and the
    #: sequence_number it continues after; it is checked after that recording's frames up to there
    resumes: tuple[Path, int] | None = None
    #: a live scenario that could not do what it is for, and why (reported as skipped, not as passed)
    skipped: str = ""


@dataclass
class Result:
    recording: Recording
    findings: list[Finding] = field(default_factory=list)
    #: seconds a live scenario (or a schemathesis operation's cases, summed) took; 0 for a recording
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return any(f.fails for f in self.findings)


def kind_of(path: Path) -> str | None:
    name = path.name
    if name.endswith(".meta.yaml"):
        return None
    if name.endswith(".error.json"):
        return "error"
    return {".sse": "stream", ".json": "json"}.get(path.suffix)


def discover(paths: list[Path]) -> Iterator[Path]:
    """The recordings in `paths` (files, and folders searched through), each one a file respkit can read.
    A folder or file that cannot be read, a symbolic link loop or an `.sse` file that is no event stream
    is an error naming it, never skipped: a CI gate must not pass on what it never read."""
    for path in paths:
        if path.is_dir():
            yield from sorted(_walk(path))
        else:
            yield _readable(path)


def _walk(folder: Path) -> Iterator[Path]:
    def failed(exc: OSError) -> None:
        raise RecordingError(f"{display(Path(exc.filename or folder))}: cannot read the folder: {exc.strerror}")

    for root, _, names in os.walk(folder, onerror=failed):
        yield from (_readable(p) for p in (Path(root, n) for n in names) if kind_of(p))


#: how much of an `.sse` file is read to tell an event stream from other bytes
SNIFF = 64 * 1024


def _readable(path: Path) -> Path:
    """`path`, when it is a regular file respkit can read (and, for `.sse`, reads as an event stream)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise RecordingError(f"{display(path)}: not a regular file")
        with path.open("rb") as fh:
            head = fh.read(SNIFF)
    except FileNotFoundError:
        broken = path.is_symlink()
        raise RecordingError(f"{path}: {'a broken symbolic link' if broken else 'no such file or folder'}") from None
    except OSError as exc:
        why = "a symbolic link loop" if exc.errno == errno.ELOOP else f"cannot read: {exc.strerror}"
        raise RecordingError(f"{path}: {why}") from None
    if kind_of(path) == "stream" and not looks_like_event_stream(head):
        raise RecordingError(
            f"{display(path)}: not an event stream (no data, event, id or retry line in its first {SNIFF // 1024} KiB)"
        )
    return path


def display(path: Path) -> str:
    """A recording's path as the user can paste it: relative when it is below the working directory
    or a short climb away, else absolute."""
    resolved = path.resolve()
    relative = os.path.relpath(resolved)
    return relative if relative.count("..") <= 2 else str(resolved)


def _index_rows(folder: Path) -> dict[str, dict[str, str]]:
    """Facts from an INDEX.md table in the folder or its parent (the corpus's layout)."""
    for index in (folder / "INDEX.md", folder.parent / "INDEX.md"):
        if index.is_file():
            return _parse_index(index)
    return {}


def _parse_index(index: Path) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    header: list[str] = []
    for line in index.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "file" in cells and "HTTP status" in cells:
            header = cells
        elif header and len(cells) == len(header) and cells[header.index("file")].startswith("`"):
            rows[cells[header.index("file")].strip("`")] = dict(zip(header, cells, strict=True))
    return rows


#: what an INDEX.md row's `fidelity` says its source altered, and the check the alteration trips (the
#: document's doing, not the API's): the corpus's image_generation_stream.sse has "..." inside its base64
_ALTERED = (("base64 truncated", "event_base64_decodes"),)


def _index_artifacts(row: dict[str, str]) -> list[dict[str, str]]:
    fidelity = row.get("fidelity", "")
    return [{"check": check, "why": fidelity} for said, check in _ALTERED if said in fidelity]


def _status(text: str) -> int | None:
    m = re.match(r"\s*(\d{3})\b", text)
    return int(m.group(1)) if m else None


#: sidecar members and the types they must have
SIDECAR_TYPES: dict[str, tuple[type, ...]] = {
    "provider": (str,),
    "profile": (str,),
    "status": (int, type(None)),
    "content_type": (str, type(None)),
    "complete": (bool,),
    "artifacts": (list,),
    "drift": (list,),
    "resumes": (dict,),
}


def _checked(meta: dict[str, Any], where: str) -> dict[str, Any]:
    for key, types in SIDECAR_TYPES.items():
        if key in meta and not isinstance(meta[key], types):
            raise RecordingError(f"{where}: at /{key}: expected {' or '.join(t.__name__ for t in types)}")
    for key in ("artifacts", "drift"):
        for i, entry in enumerate(meta.get(key) or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("check"), str):
                raise RecordingError(f"{where}: at /{key}/{i}/check: expected a check id")
    resumes = meta.get("resumes")
    if resumes is not None:
        if not isinstance(resumes.get("recording"), str):
            raise RecordingError(f"{where}: at /resumes/recording: expected a recording's file name")
        if type(resumes.get("starting_after")) is not int:
            raise RecordingError(f"{where}: at /resumes/starting_after: expected a sequence_number")
    return meta


def load_recording(path: Path, profile: str | None = None) -> Recording:
    kind = kind_of(path)
    if kind is None:
        raise RecordingError(f"{display(path)}: not a recording (.json, .sse or .error.json)")
    stem = path.name[: -len(next(s for s in SUFFIXES if path.name.endswith(s)))]
    sidecar = path.with_name(f"{stem}.meta.yaml")
    meta: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            loaded = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raise RecordingError(f"{display(sidecar)}: at '': not valid YAML") from None
        if not isinstance(loaded, dict):
            raise RecordingError(f"{display(sidecar)}: at '': expected a mapping")
        meta = _checked(loaded, display(sidecar))
    else:
        row = _index_rows(path.parent).get(f"{path.parent.name}/{path.name}", {})
        meta = {"status": _status(row.get("HTTP status", "")), "content_type": row.get("content-type") or None,
                "artifacts": _index_artifacts(row)}  # fmt: skip
    folder = path.parent.name
    chosen = profile or meta.get("profile") or (folder if folder in available() else DEFAULT)
    if not profile and str(chosen).endswith((".yaml", ".yml")) and not Path(chosen).is_absolute():
        chosen = (path.parent / chosen).as_posix()  # a sidecar names a profile file relative to itself
    artifacts = tuple((str(a.get("check")), str(a.get("why", ""))) for a in meta.get("artifacts", []) or [])
    drift = tuple(
        (str(d.get("check")), str(d.get("pointer", "*")), str(d.get("why", ""))) for d in meta.get("drift", []) or []
    )
    return Recording(
        path=path,
        display=display(path),
        kind=kind,
        provider=str(meta.get("provider", folder)),
        profile=str(chosen),
        status=meta.get("status") if isinstance(meta.get("status"), int) else None,
        content_type=meta.get("content_type"),
        complete=bool(meta.get("complete", True)),
        artifacts=artifacts,
        drift=drift,
        operation=str(meta["operation"]) if meta.get("operation") else None,
        resumes=(path.parent / meta["resumes"]["recording"], meta["resumes"]["starting_after"])
        if meta.get("resumes")
        else None,
    )


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def check_recording(rec: Recording, profile: Profile | None = None) -> Result:
    prof = profile or load_profile(rec.profile)
    source = Source.recording(rec.display)
    if rec.kind == "stream":
        head, count = _head(rec)
        chunks = itertools.chain([head], _chunks(rec.path))
        found = check_stream(chunks, content_type=rec.content_type, profile=prof, source=source, complete=rec.complete)
        found = after_head(found, count)
    elif rec.kind == "error":
        found = check_error(
            rec.status, None, rec.path.read_bytes(), content_type=rec.content_type, profile=prof, source=source
        )
    else:
        found = _json_recording(rec, prof, source)
    return Result(rec, [_artifact(f, rec) for f in found])


def _head(rec: Recording) -> tuple[bytes, int]:
    """The frames a resumed stream continues (none for a stream that resumes nothing)."""
    if rec.resumes is None:
        return b"", 0
    original, after = rec.resumes
    try:
        body = original.read_bytes()
    except OSError:
        raise RecordingError(f"{rec.display}: resumes {display(original)}, which cannot be read") from None
    return head_through(body, after) or (b"", 0)


def _json_recording(rec: Recording, prof: Profile, source: Source) -> list[Finding]:
    """A JSON body, checked against the schema of the operation it answers (told from the body when no
    sidecar names it; an ambiguous body is reported as such)."""
    body = rec.path.read_bytes()
    match = _match(rec, body)
    if match.operation is None:
        return [_ambiguous(rec, match, source, prof)]
    schema = _response_schema(match.operation)
    if schema == "Response":
        return check_json_body(body, content_type=rec.content_type, profile=prof, source=source)
    # an operation answering with another schema (or, like deleteResponse, with none the spec describes)
    return check_operation_body(
        body, schema, operation=match.operation, content_type=rec.content_type, profile=prof, source=source
    )


def _match(rec: Recording, body: bytes) -> Match:
    if rec.operation is not None:
        return Match(rec.operation, (rec.operation,))
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None  # the checks say so; its operation does not matter
    return infer(parsed)


def with_operation(rec: Recording) -> Recording:
    """The recording with its operation named (told from its body once, for a JSON one), so that copies of
    it (the selftest's mutants) are checked as answers of the same operation without reading it again."""
    if rec.kind != "json" or rec.operation is not None:
        return rec
    return replace(rec, operation=operation_of(rec))


def operation_of(rec: Recording) -> str:
    """The operation a JSON recording answers: its sidecar's, else told from its body (`createResponse`
    where the body is ambiguous or not JSON)."""
    return _match(rec, rec.path.read_bytes()).operation or FALLBACK


def _ambiguous(rec: Recording, match: Match, source: Source, prof: Profile) -> Finding:
    finding = make_finding(
        "recording_operation_known",
        source,
        f"the body could answer {', '.join(match.candidates)}: name its operation in a sidecar",
        "",
        f"{rec.display.rsplit('.', 1)[0]}.meta.yaml with `operation: NAME`",
        "",
        "failure",
        "a recording without a sidecar is matched to its operation by its `object` and members",
    )
    return prof.classify(finding)


def _response_schema(operation: str) -> str | None:
    """The schema of an operation's 2xx JSON body, from the spec (`Response` for unknown operations)."""
    from respkit.conformance.schema import default_validators

    return default_validators().response_schemas.get(operation, "Response")


def _artifact(finding: Finding, rec: Recording) -> Finding:
    """A failure the source document caused (an elision, a cut) is a deviation of the recording, not the API;
    a field a documented example predates is spec drift."""
    if finding.fails:
        for check, pattern, why in rec.drift:
            if fnmatch.fnmatchcase(finding.check, check) and fnmatch.fnmatchcase(finding.pointer, pattern):
                return finding.with_severity(Severity.DRIFT, f"spec drift: {why}")
        for check, why in rec.artifacts:
            if check == finding.check:
                return finding.with_severity(Severity.DEVIATION, f"source artifact: {why}")
    return finding


def replay(paths: list[Path] | None = None, profile: str | None = None) -> list[Result]:
    targets = paths or [BUNDLED]
    return [check_recording(load_recording(p, profile)) for p in discover(targets)]
