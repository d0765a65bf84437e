"""The one redaction point. Every string that leaves the process (the console, the reports, recordings,
reproduce lines, error messages) passes through `redact` or `redact_bytes`: a provider that echoes the
key in a body must not put it into a CI log.

A key is registered where it is read (`register`); it is replaced wherever it stands as a whole token
(not inside a longer word, so a short key cannot mangle the text around it), also in the escaped forms
JSON and HTML give it. Credential-shaped strings (`sk-...`, a bearer token) are replaced too.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

TOKEN = "[REDACTED]"
#: a character that may belong to a key: the key is replaced only where none stands on either side
_WORD = r"A-Za-z0-9_\-"
SECRET_PATTERNS = (
    r"sk-[A-Za-z0-9_\-]{8,}",
    r"(?i)bearer\s+(?!respkit-wrong-key)[A-Za-z0-9_\-\.=]{8,}",
    r"xai-[A-Za-z0-9]{8,}",
    r"gsk_[A-Za-z0-9]{8,}",
    r"AKIA[0-9A-Z]{16}",
)
_PATTERNS = [re.compile(p) for p in SECRET_PATTERNS]
_BYTE_PATTERNS = [re.compile(p.encode()) for p in SECRET_PATTERNS]
_keys: list[re.Pattern[str]] = []
_byte_keys: list[re.Pattern[bytes]] = []


def _token(form: str) -> str:
    return rf"(?<![{_WORD}]){re.escape(form)}(?![{_WORD}])"


def register(key: str | None) -> None:
    """Redact `key` from everything respkit writes from now on, in this process."""
    if not key:
        return
    forms = dict.fromkeys([key, json.dumps(key)[1:-1], html.escape(key)])
    for form in forms:
        pattern = _token(form)
        if pattern not in (p.pattern for p in _keys):
            _keys.append(re.compile(pattern))
            _byte_keys.append(re.compile(pattern.encode("utf-8", "surrogateescape")))


def redact(text: str, key: str | None = None) -> str:
    """`text` without the registered keys (and `key`, registered on the way) or anything credential-shaped."""
    register(key)
    for pattern in (*_keys, *_PATTERNS):
        text = pattern.sub(TOKEN, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    """`redact` for raw bytes (a recording keeps the bytes received, invalid UTF-8 included)."""
    for pattern in (*_byte_keys, *_BYTE_PATTERNS):
        data = pattern.sub(TOKEN.encode(), data)
    return data


class RedactingStream:
    """A text stream that redacts what is written to it; everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def redacting_output() -> Iterator[None]:
    """Standard output and error redacted for the duration of the block (the console's redaction point)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
