"""respkit's user cache (`RESPKIT_CACHE_DIR`, else the user's cache folder), and the parsed specs kept in it.

libyaml takes about two seconds over the 3 MB upstream spec, and every command that generates, diffs or
moves the pin reads it; a parse kept by the sha256 of the spec's bytes loads in a few hundredths of a
second. An entry is plain data (what a safe YAML load makes: mappings, lists, scalars, dates) pickled, with
the sha256 of its own bytes in front: one that does not verify, or holds anything but plain data, is
ignored and parsed again. At most `KEPT` entries are kept; the least recently written go first."""

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

#: parsed specs kept; each is about the size of its spec (bounded by `--max-spec-bytes`)
KEPT = 8
#: what a safe YAML load makes beyond builtins, the only classes an entry may name
_PLAIN = {("datetime", name): getattr(datetime, name) for name in ("date", "datetime", "time", "timedelta", "timezone")}


def cache_root() -> Path:
    """`RESPKIT_CACHE_DIR`, else the user's cache folder for respkit."""
    import platformdirs

    return Path(os.environ.get("RESPKIT_CACHE_DIR") or platformdirs.user_cache_dir("respkit"))


def _entry(key: str) -> Path:
    """Where the parse with this key is kept; the interpreter's version is part of it (pickles of builtins
    are portable, but a cache shared by two Pythons should not have them overwrite each other's)."""
    return cache_root() / "parsed" / f"{key}.py{sys.version_info[0]}{sys.version_info[1]}"


class _PlainData(pickle.Unpickler):
    """An unpickler that builds builtins and `datetime` values, and refuses any other class."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PLAIN:
            return _PLAIN[(module, name)]
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def load_parsed(key: str) -> dict[str, Any] | None:
    """The document kept under ``key``, or None (none kept, or an entry that does not verify)."""
    try:
        data = _entry(key).read_bytes()
    except OSError:
        return None
    digest, payload = data[:32], data[32:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    try:
        document = _PlainData(io.BytesIO(payload)).load()
    except Exception:  # whatever an unreadable entry raises, it is parsed again
        return None
    return document if isinstance(document, dict) else None


def keep_parsed(key: str, document: dict[str, Any]) -> None:
    """Keep a parse under ``key`` (written aside, then moved: a reader never sees half an entry); a cache
    that cannot be written only costs the next run the parse."""
    path = _entry(key)
    try:
        payload = pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".parsed.", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
        _prune(path.parent)
    except (OSError, pickle.PicklingError):
        return


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
