"""What one server instance holds: its options, its quirk mode, its store and its rate limiter.

Every resource a request can make the server spend has a bound here, on by default; `respkit serve`
has an option to raise each one."""

from __future__ import annotations

from dataclasses import dataclass, field

from respkit.conformance.server.guards import RateLimiter
from respkit.conformance.server.quirks import Quirk
from respkit.conformance.server.store import DEFAULT_MAX_STORE_BYTES, Store

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
#: Seconds a client has to send a request's headers, then as many again for its body (`--read-timeout`).
DEFAULT_READ_TIMEOUT = 30.0

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_STORE_BYTES", "DEFAULT_READ_TIMEOUT", "ServerState"]


@dataclass
class ServerState:
    quirk: Quirk
    api_keys: set[str] | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None))
    store: Store = field(default_factory=Store)
    read_timeout: float = DEFAULT_READ_TIMEOUT
    #: a request without a key is served too (`respkit serve` without --api-key, as local servers are)
    keyless: bool = False
