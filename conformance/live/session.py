"""One live conversation with a provider: requests over httpx, each exchange kept for the checks,
for reports (a curl line with the key as `$VAR`) and for recordings (secrets redacted)."""

from __future__ import annotations

import itertools
import json
import shlex
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from respkit.conformance.cli import TargetUnreachable, UsageError
from respkit.conformance.findings import Finding, Severity, contrast
from respkit.conformance.limits import Limits, current, option, size
from respkit.conformance.live.gate import RateGate, RateWaitExceeded, retry_after
from respkit.conformance.redaction import redact, register
from respkit.conformance.sse import head_through

WRONG_KEY = "respkit-wrong-key"  # sent where a scenario needs a key the provider must refuse


class Unreachable(TargetUnreachable):
    """The target did not answer at all (connection refused, DNS, TLS, no answer within the timeout)."""


class KeyRefused(UsageError):
    """The target answered 401 to the key it was given: a configuration problem, not a finding."""


class Halted(Unreachable):
    """The run ended elsewhere (another worker's error, Ctrl-C): this worker sends nothing more."""


class WrongBase(UsageError):
    """The base URL lacks the `/v1` the target serves under: every request would be a 404."""


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
    #: the body holds only the first KEEP_BYTES of a longer stream (the checks saw it all)
    clipped: bool = False
    #: the bound (`--max-stream-bytes`, ...) that stopped reading the body, and where; None: read to its end
    bound: str | None = None
    #: the event types of a stream whose body was released (`release`), for coverage
    seen: frozenset[str] | None = None
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

    def release(self) -> None:
        """Drop the body once the checks and its scenario are done with it (a run keeps what the reports
        need, not every body): a stream keeps the event types it carried."""
        self.seen = self.event_types()
        self.body = b""

    def event_types(self) -> frozenset[str]:
        """The `type` of each JSON event this exchange streamed (none for a body that is not a stream)."""
        if self.seen is not None:
            return self.seen
        return frozenset(_types(self.body)) if self.kind == "stream" else frozenset()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def json(self) -> Any:
        return json.loads(self.body)

    def failure(self, check: str, message: str, *, expected: Any, received: Any) -> Finding:
        """A failure of `check` seen in this exchange, with its reproduce line."""
        shown = contrast(expected, received)
        return Finding(
            check=check,
            severity=Severity.FAILURE,
            message=message,
            source=f"live: {self.scenario}",
            operation=self.operation,
            expected=shown[0],
            received=shown[1],
            reproduce=self.reproduce,
        )


#: how much of a stream's body an exchange keeps for the scenarios when it is checked as it arrives (the
#: checks see it all; a recording session keeps the whole body, up to `--max-stream-bytes`)
KEEP_BYTES = 16 * 1024 * 1024

StreamChecker = Callable[["Exchange", Iterator[bytes]], list[Any]]
#: makes an exchange's reproduce line from (scenario, method, path, body text, auth)
Reproducer = Callable[[str, str, str, str | None, "bool | str"], str]
#: what `Session.hint_base` sends under `<base>/v1`: an empty create, a 400 (or 401) wherever the API is
PROBE_PATH, PROBE_BODY = "/responses", b"{}"


@dataclass
class Session:
    """Talks to `base_url` with the key read from the environment variable `key_env` (never printed); with
    no key (a keyless target) it sends no Authorization. Thread-safe: the workers of a run share it."""

    base_url: str
    api_key: str | None
    key_env: str
    timeout: float = 60.0
    exchanges: list[Exchange] = field(default_factory=list)
    #: checks a stream chunk by chunk as it arrives (set by the runner), so memory stays bounded
    stream_checker: StreamChecker | None = None
    #: keep every body whole (up to its bound), as a recording needs it; else a checked stream keeps KEEP_BYTES
    keep_whole: bool = False
    limits: Limits = field(default_factory=current)
    #: the 429 gate every request passes (shared by the run's workers)
    gate: RateGate = field(default_factory=RateGate)
    #: how a reproduce line is written (default: a curl line against `base_url`)
    reproducer: Reproducer | None = None
    _client: httpx.Client | None = None
    _ends: float = 0.0
    _hinted: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _hint_done: bool = False
    _halted: bool = False

    def __enter__(self) -> Session:
        register(self.api_key)
        self._client = httpx.Client(timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)))
        self._ends = time.monotonic() + self.limits.deadline
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

    def curl(self, method: str, path: str, body: str | None, auth: bool | str = True) -> str:
        """A reproduce line, the body as sent; the key appears only as `$VAR`."""
        return redact(curl(self.base_url, method, path, body, self.key_env if self.api_key else None, auth))

    def _reproduce(self, scenario: str, method: str, path: str, body: str | None, auth: bool | str) -> str:
        if self.reproducer is not None:
            return redact(self.reproducer(scenario, method, path, body, auth), self.api_key)
        return self.curl(method, path, body, auth)

    def _left(self) -> float:
        """Seconds until the run's deadline."""
        return self._ends - time.monotonic()

    def past_deadline(self, method: str, path: str) -> Unreachable:
        """The one-line error that ends a run which reached its deadline."""
        return Unreachable(
            self._redact(
                f"{self.base_url} kept the run past its deadline of {self.limits.deadline:g} s "
                f"(at {method} {path}); raise it with --deadline"
            )
        )

    def _timeout(self) -> httpx.Timeout:
        """`timeout` for each wait (connect, answer, data), never past the run's deadline."""
        wait = max(min(self.timeout, self._left()), 0.001)
        return httpx.Timeout(wait, connect=min(wait, 10.0))

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
        """Send one request and read the whole response (streams are read as bytes as they come), within
        the run's bounds. `resumes`: the exchange whose stream this request resumes, and after which
        sequence_number."""
        content: bytes | None = raw if body is None else json.dumps(body).encode()
        text = None if content is None else content.decode("utf-8", "replace")
        reproduce = self._reproduce(scenario, method, path, text, auth)
        sent = Exchange(scenario, operation, method, path, body, 0, {}, b"", reproduce, "json")
        if resumes is not None:
            sent.resumes, sent.resumes_after = resumes
        while True:  # a 429 closes the gate for every worker, then the request is sent again
            self._pass_gate(method, path)
            exchange = self._send(sent, content, content_type, auth)
            if exchange is not None:
                break
        if exchange.status == 404 and method == "POST" and path == PROBE_PATH:
            self.hint_base(exchange)
        self.exchanges.append(exchange)
        return exchange

    def halt(self) -> None:
        """Send nothing more: the run ended (the workers still in a scenario stop at their next request)."""
        self._halted = True

    def _pass_gate(self, method: str, path: str) -> None:
        """Wait for the 429 gate, within the run's deadline; nothing more once the run was halted."""
        if self._halted:
            raise Halted(f"the run stopped before {method} {path}")
        if self._left() <= 0 or not self.gate.wait(self._ends):
            raise self.past_deadline(method, path)

    def _send(self, sent: Exchange, content: bytes | None, content_type: str, auth: bool | str) -> Exchange | None:
        """One attempt at `sent`'s request: the exchange, or None after a 429 (the gate is closed then)."""
        assert self._client is not None, "use Session as a context manager"
        method, path = sent.method, sent.path
        headers = self.headers(auth)
        if content is not None:
            headers["Content-Type"] = content_type
        try:
            with self._client.stream(
                method, self.base_url.rstrip("/") + path, content=content, headers=headers, timeout=self._timeout()
            ) as response:
                status, resp_headers = response.status_code, {k.lower(): v for k, v in response.headers.items()}
                if status == 429:
                    self._rate_limited(resp_headers)
                    return None
                if status == 401 and auth is True:
                    raise KeyRefused(self._redact(self._refused(method, path)))
                exchange = replace(sent, status=status, headers=resp_headers, kind=_kind(status, resp_headers, sent))
                self._read(response, exchange)
        except httpx.ConnectError as exc:
            raise Unreachable(self._redact(f"cannot reach {self.base_url}: {type(exc).__name__}")) from None
        except httpx.TimeoutException:
            if self._left() <= 0:
                raise self.past_deadline(method, path) from None
            waited = f"{self.base_url} did not answer {method} {path} within {self.timeout:g} s"
            raise Unreachable(self._redact(waited)) from None
        except httpx.TransportError as exc:
            raise Unreachable(
                self._redact(f"{self.base_url} failed on {method} {path}: {type(exc).__name__}")
            ) from None
        return exchange

    def _refused(self, method: str, path: str) -> str:
        if self.api_key:
            return f"{self.base_url} refused the key in ${self.key_env} (HTTP 401 on {method} {path})"
        return (
            f"{self.base_url} needs a key (HTTP 401 on {method} {path} without one): put it in ${self.key_env} "
            "or name its variable with --api-key-env"
        )

    def _rate_limited(self, headers: dict[str, str]) -> None:
        try:
            self.gate.close(retry_after(headers))
        except RateWaitExceeded as exc:
            limited = f"{self.base_url} kept rate-limiting: {exc}"
            raise Unreachable(self._redact(limited)) from None

    def hint_base(self, exchange: Exchange) -> None:
        """After the run's first 404 to `POST /responses` (a route every target of the API has; a 404
        there is an unknown model, or a base URL without its `/v1`): when `<base>/v1` answers an empty
        create with anything but a 404, the base URL lacks its `/v1`, one line to say rather than a failure
        per scenario. Asked once a run."""
        with self._hinted:
            if self._hint_done:
                return
            self._hint_done = True
        assert self._client is not None, "use Session as a context manager"
        base = self.base_url.rstrip("/") + "/v1"
        headers = {**self.headers(), "Content-Type": "application/json"}
        try:
            probe = self._client.post(base + PROBE_PATH, content=PROBE_BODY, headers=headers, timeout=self._timeout())
        except httpx.HTTPError:
            return
        if probe.status_code != 404:
            raise WrongBase(
                self._redact(
                    f"--base-url {self.base_url}: {exchange.method} {exchange.path} is a 404 here, but {base} "
                    f"answers: use --base-url {base}"
                )
            )

    def _read(self, response: httpx.Response, exchange: Exchange) -> None:
        """Read the body into the exchange within its bounds; a stream goes through the checker as it
        arrives, and a failure mid-body is kept as `exchange.cut` (the checks see what arrived)."""
        checked = exchange.kind == "stream" and self.stream_checker is not None
        arrival = Arrival(self, exchange, KEEP_BYTES if checked and not self.keep_whole else None)
        if checked and self.stream_checker is not None:
            chunks = itertools.chain([exchange.head()[0]], arrival.chunks(response))
            exchange.findings = self.stream_checker(exchange, chunks)
        else:
            for _ in arrival.chunks(response):
                pass
        exchange.body = b"".join(arrival.kept)


@dataclass
class Arrival:
    """One body as it arrives: cut at its bounds (bytes, and a stream's time), past the run's deadline an
    error, keeping the first `keep` bytes (None: all it reads)."""

    session: Session
    exchange: Exchange
    keep: int | None
    kept: list[bytes] = field(default_factory=list)
    size: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def stream(self) -> bool:
        return self.exchange.kind == "stream"

    def chunks(self, response: httpx.Response) -> Iterator[bytes]:
        """The body's chunks, up to the first bound; a target that stops sending ends the run (`Unreachable`)."""
        try:
            for chunk in response.iter_bytes():
                taken = self._take(chunk)
                yield taken
                if self.exchange.bound is not None:
                    return
                self._in_time()
        except httpx.TimeoutException:
            self._stalled()
        except httpx.TransportError as exc:
            self.exchange.cut = f"{type(exc).__name__} after {self.size} bytes"

    def _take(self, chunk: bytes) -> bytes:
        """The part of `chunk` within the byte bound; past it, the exchange says which bound cut it."""
        name = "max_stream_bytes" if self.stream else "max_body_bytes"
        room = getattr(self.session.limits, name) - self.size
        if len(chunk) > room:
            chunk = chunk[:room]
            what = "the stream was cut there" if self.stream else "the body is larger and was not parsed"
            self.exchange.bound = f"{option(name)} {size(self.size + len(chunk))}: {what}"
        self.size += len(chunk)
        self._keep(chunk)
        return chunk

    def _keep(self, chunk: bytes) -> None:
        kept = self.size - len(chunk)
        if self.keep is None or kept + len(chunk) <= self.keep:
            self.kept.append(chunk)
        else:
            self.kept.append(chunk[: max(self.keep - kept, 0)])
            self.exchange.clipped = True

    def _in_time(self) -> None:
        """A stream slower than its bound is cut (a finding); a run past its deadline ends (exit 3)."""
        limits, took = self.session.limits, time.monotonic() - self.started
        if self.stream and took > limits.max_stream_seconds:
            cut_at = f"{option('max_stream_seconds')} {limits.max_stream_seconds:g}"
            self.exchange.bound = f"{cut_at}: the stream was cut after {took:.0f} s and {self.size} bytes"
        elif self.session._left() <= 0:
            raise self.session.past_deadline(self.exchange.method, self.exchange.path)

    def _stalled(self) -> None:
        """No data within `timeout`: past the deadline or the stream's bound, that bound; else the target
        stalled, which ends the run as unreachable."""
        self._in_time()
        if self.exchange.bound is not None:
            return
        ex, waited = self.exchange, self.session.timeout
        stalled = f"stopped sending {ex.method} {ex.path}: no data for {waited:g} s after {self.size} bytes"
        raise Unreachable(self.session._redact(f"{self.session.base_url} {stalled}"))


def _asked_stream(body: Any) -> bool:
    return isinstance(body, dict) and body.get("stream") is True


def _kind(status: int, headers: dict[str, str], sent: Exchange) -> str:
    if status >= 400:
        return "error"
    return "stream" if "event-stream" in headers.get("content-type", "") or _asked_stream(sent.request_body) else "json"


def curl(base_url: str, method: str, path: str, body: str | None, key_env: str | None, auth: bool | str) -> str:
    """A curl line for one request: the key as `$key_env` (none for a keyless target), the body as sent."""
    parts = [f"curl -sS -X {method} {shlex.quote(base_url.rstrip('/') + path)}"]
    if auth is True and key_env:
        parts.append(f'-H "Authorization: Bearer ${key_env}"')
    elif isinstance(auth, str):
        parts.append(f"-H 'Authorization: Bearer {WRONG_KEY}'")
    if body is not None:
        parts.append("-H 'Content-Type: application/json' -d " + shlex.quote(body))
    return " ".join(parts)


def _types(body: bytes) -> Iterator[str]:
    """The `type` of each JSON event of a stream body."""
    from respkit.conformance.sse import read_frames

    for frame in read_frames([body]):
        try:
            event = json.loads(frame.data)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            yield event["type"]
