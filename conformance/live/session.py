"""One live conversation with a provider: requests over httpx, each exchange kept for the checks,
for reports (a curl line with the key as `$VAR`) and for recordings (secrets redacted)."""

from __future__ import annotations

import itertools
import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.cli import TargetUnreachable, UsageError
from conformance.findings import Finding, Severity, cut
from conformance.sse import head_through

SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)bearer\s+(?!respkit-wrong-key)[A-Za-z0-9_\-\.=]{8,}"),
    re.compile(r"xai-[A-Za-z0-9]{8,}"),
    re.compile(r"gsk_[A-Za-z0-9]{8,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
)


WRONG_KEY = "respkit-wrong-key"  # sent where a scenario needs a key the provider must refuse


class Unreachable(TargetUnreachable):
    """The target did not answer at all (connection refused, DNS, TLS, no answer within the timeout)."""


class KeyRefused(UsageError):
    """The target answered 401 to the key it was given: a configuration problem, not a finding."""


@dataclass
class Exchange:
    """One request and its response, as the checks and the recorder see them."""

    scenario: str
    operation: str
    method: str
    path: str
    request_body: Any
    status: int
    headers: dict[str, str]
    body: bytes
    reproduce: str
    kind: str  # json | stream | error
    #: why reading the body stopped early (the connection failed mid-body), else None
    cut: str | None = None
    #: a stream's findings, made while it arrived (None: the body is checked after it was read)
    findings: list[Any] | None = None
    #: the body holds only the first KEEP_BYTES of a longer stream
    clipped: bool = False
    #: the stream this one resumes (`starting_after`) and after which sequence_number: the checks read the
    #: original's frames up to there first (see `head`), and report only what they find in this one
    resumes: Exchange | None = None
    resumes_after: int = -1
    _head: tuple[bytes, int] | None = field(default=None, repr=False)

    def head(self) -> tuple[bytes, int]:
        """The frames this stream continues, and how many they are (none for a stream that resumes nothing)."""
        if self._head is None:
            found = head_through(self.resumes.body, self.resumes_after) if self.resumes is not None else None
            self._head = found or (b"", 0)
        return self._head

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def json(self) -> Any:
        return json.loads(self.body)

    def failure(self, check: str, message: str, *, expected: Any, received: Any) -> Finding:
        """A failure of `check` seen in this exchange, with its reproduce line."""
        return Finding(
            check=check,
            severity=Severity.FAILURE,
            message=message,
            source=f"live: {self.scenario}",
            operation=self.operation,
            expected=cut(expected),
            received=cut(received),
            reproduce=self.reproduce,
        )


#: how much of a stream's body an exchange keeps for scenarios and recordings; the checks see it all
KEEP_BYTES = 16 * 1024 * 1024

StreamChecker = Callable[["Exchange", Iterator[bytes]], list[Any]]


@dataclass
class Session:
    """Talks to `base_url` with the key read from the environment variable `key_env` (never printed)."""

    base_url: str
    api_key: str | None
    key_env: str
    timeout: float = 60.0
    exchanges: list[Exchange] = field(default_factory=list)
    #: checks a stream chunk by chunk as it arrives (set by the runner), so memory stays bounded
    stream_checker: StreamChecker | None = None
    _client: httpx.Client | None = None

    def __enter__(self) -> Session:
        self._client = httpx.Client(timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()

    def headers(self, auth: bool | str = True) -> dict[str, str]:
        out = {"Accept": "application/json, text/event-stream"}
        if auth is True and self.api_key:
            out["Authorization"] = f"Bearer {self.api_key}"
        elif isinstance(auth, str):
            out["Authorization"] = f"Bearer {auth}"
        return out

    def _redact(self, text: str) -> str:
        return redact(text, self.api_key)

    def curl(self, method: str, path: str, body: Any, auth: bool | str = True) -> str:
        """A reproduce line; the key appears only as `$VAR`."""
        parts = [f"curl -sS -X {method} {shlex.quote(self.base_url.rstrip('/') + path)}"]
        if auth is True:
            parts.append(f'-H "Authorization: Bearer ${self.key_env}"')
        elif isinstance(auth, str):
            parts.append(f"-H 'Authorization: Bearer {WRONG_KEY}'")
        if body is not None:
            parts.append("-H 'Content-Type: application/json' -d " + shlex.quote(json.dumps(body)))
        return redact(" ".join(parts), self.api_key)

    def request(
        self,
        scenario: str,
        operation: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: bool | str = True,
        raw: bytes | None = None,
        content_type: str = "application/json",
        resumes: tuple[Exchange, int] | None = None,
    ) -> Exchange:
        """Send one request and read the whole response (streams are read as bytes as they come).
        `resumes`: the exchange whose stream this request resumes, and after which sequence_number."""
        assert self._client is not None, "use Session as a context manager"
        url = self.base_url.rstrip("/") + path
        headers = self.headers(auth)
        content: bytes | None = raw
        if body is not None:
            content = json.dumps(body).encode()
        if content is not None:
            headers["Content-Type"] = content_type
        reproduce = self.curl(method, path, body, auth)
        try:
            with self._client.stream(method, url, content=content, headers=headers) as response:
                status, resp_headers = response.status_code, {k.lower(): v for k, v in response.headers.items()}
                if status == 401 and auth is True:
                    refused = f"{self.base_url} refused the key in ${self.key_env} (HTTP 401 on {method} {path})"
                    raise KeyRefused(self._redact(refused))
                ctype = resp_headers.get("content-type", "")
                kind = (
                    "error" if status >= 400 else "stream" if "event-stream" in ctype or _asked_stream(body) else "json"
                )
                exchange = Exchange(scenario, operation, method, path, body, status, resp_headers, b"", reproduce, kind)
                if resumes is not None:
                    exchange.resumes, exchange.resumes_after = resumes
                self._read(response, exchange)
        except httpx.ConnectError as exc:
            raise Unreachable(self._redact(f"cannot reach {self.base_url}: {type(exc).__name__}")) from None
        except httpx.TimeoutException:
            waited = f"{self.base_url} did not answer {method} {path} within {self.timeout:g} s"
            raise Unreachable(self._redact(waited)) from None
        except httpx.TransportError as exc:
            raise Unreachable(
                self._redact(f"{self.base_url} failed on {method} {path}: {type(exc).__name__}")
            ) from None
        self.exchanges.append(exchange)
        return exchange

    def _read(self, response: httpx.Response, exchange: Exchange) -> None:
        """Read the body into the exchange; a stream goes through the checker as it arrives, and a failure
        mid-body is kept as `exchange.cut` (the checks see what arrived)."""
        kept: list[bytes] = []
        size = 0

        def arriving() -> Iterator[bytes]:
            nonlocal size
            try:
                for chunk in response.iter_bytes():
                    if size < KEEP_BYTES:
                        kept.append(chunk[: KEEP_BYTES - size])
                    else:
                        exchange.clipped = True
                    size += len(chunk)
                    yield chunk
            except httpx.TimeoutException:
                exchange.cut = f"no data for {self.timeout:g} s after {size} bytes"
            except httpx.TransportError as exc:
                exchange.cut = f"{type(exc).__name__} after {size} bytes"

        if exchange.kind == "stream" and self.stream_checker is not None:
            exchange.findings = self.stream_checker(exchange, itertools.chain([exchange.head()[0]], arriving()))
        else:
            for _ in arriving():
                pass
        exchange.body = b"".join(kept)


def _asked_stream(body: Any) -> bool:
    return isinstance(body, dict) and body.get("stream") is True


def redact(text: str, key: str | None = None) -> str:
    """Remove the key (and anything shaped like a credential) from text bound for a report or a file."""
    if key:
        text = text.replace(key, "[REDACTED]")
    for pattern in SECRET_PATTERNS:
        text = pattern.sub("[REDACTED]", text)
    return text
