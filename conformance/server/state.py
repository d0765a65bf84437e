"""What one server instance holds: its options, its quirk mode, its store and its rate limiter."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.server.guards import RateLimiter
from conformance.server.quirks import Quirk
from conformance.server.store import Store

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass
class ServerState:
    quirk: Quirk
    api_keys: set[str] | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None))
    store: Store = field(default_factory=Store)
