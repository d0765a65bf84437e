"""respkit's user cache (`RESPKIT_CACHE_DIR`, else the user's cache folder), and the work kept in it.

Two steps of `generate` are pure functions of their input and take seconds: libyaml's parse of the 3 MB
upstream spec (~2 s) and datamodel-code-generator's models (~4 s). Each is kept by a key that covers all
it depends on (`parsed`: the spec's sha256; `models`: see `generator.models`), so the next command that
reads the same spec, or renders the same closure, loads it in hundredths of a second. Every entry carries
the sha256 of its own bytes: one that does not verify is ignored and the work done again. A parse is plain
data (what a safe YAML load makes: mappings, lists, scalars, dates) pickled, and an entry naming any other
class is refused. At most `KEPT` entries of each kind are kept; the least recently written go first."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

#: entries kept of each kind; each is about the size of its spec (bounded by `--max-spec-bytes`)
KEPT = 8
#: what a safe YAML load makes beyond builtins, the only classes an entry may name
_PLAIN = {("datetime", name): getattr(datetime, name) for name in ("date", "datetime", "time", "timedelta", "timezone")}


def cache_root() -> Path:
    """`RESPKIT_CACHE_DIR`, else the user's cache folder for respkit."""
    import platformdirs

    return Path(os.environ.get("RESPKIT_CACHE_DIR") or platformdirs.user_cache_dir("respkit"))


def _entry(kind: str, key: str) -> Path:
    """Where the entry of this kind and key is kept; the interpreter's version is part of it (a cache shared
    by two Pythons should not have them overwrite each other's)."""
    return cache_root() / kind / f"{key}.py{sys.version_info[0]}{sys.version_info[1]}"


def load_entry(kind: str, key: str) -> bytes | None:
    """The bytes kept under ``kind``/``key``, or None (none kept, or an entry that does not verify)."""
    try:
        data = _entry(kind, key).read_bytes()
    except OSError:
        return None
    digest, payload = data[:32], data[32:]
    return payload if hashlib.sha256(payload).digest() == digest else None


def keep_entry(kind: str, key: str, payload: bytes) -> None:
    """Keep ``payload`` under ``kind``/``key`` behind its sha256 (written aside, then moved: a reader never
    sees half an entry); a cache that cannot be written only costs the next run the work."""
    path = _entry(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".entry.", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        return


class _PlainData(pickle.Unpickler):
    """An unpickler that builds builtins and `datetime` values, and refuses any other class."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PLAIN:
            return _PLAIN[(module, name)]
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def load_parsed(key: str) -> tuple[dict[str, Any], bytes] | None:
    """The document kept under ``key`` and its pickle, or None (none kept, or an entry that does not verify)."""
    payload = load_entry("parsed", key)
    if payload is None:
        return None
    try:
        document = _PlainData(io.BytesIO(payload)).load()
    except Exception:  # whatever an unreadable entry raises, it is parsed again
        return None
    return (document, payload) if isinstance(document, dict) else None


def keep_parsed(key: str, document: dict[str, Any]) -> bytes:
    """Keep a parse under ``key``; its pickle, for the caller's own memo."""
    payload = pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)
    keep_entry("parsed", key, payload)
    return payload


def _prune(folder: Path) -> None:
    """Keep the `KEPT` newest entries."""
    entries = sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=_written, reverse=True)
    for old in entries[KEPT:]:
        old.unlink(missing_ok=True)


def _written(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
