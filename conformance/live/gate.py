"""The rate-limit gate every worker of a live run passes before each request: a `429` closes it for the
answer's `Retry-After`, so the whole run backs off together (workers that kept sending would only earn
more 429s), within a bound on the total wait."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

#: seconds to wait after a 429 that names no wait (no `Retry-After`, or one respkit cannot read)
DEFAULT_RETRY_AFTER = 1.0
#: seconds a whole run may spend waiting on 429s, unless `--max-rate-wait` says otherwise
DEFAULT_MAX_RATE_WAIT = 120.0


class RateWaitExceeded(Exception):
    """The target kept rate-limiting past the run's bound on waiting."""


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float:
    """Seconds a 429 asks to wait: `retry-after-ms` (OpenAI's), else `Retry-After` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms", "")
    try:
        return max(float(millis) / 1000, 0.0)
    except ValueError:
        pass
    value = headers.get("retry-after", "").strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER
    return max(when - (time.time() if now is None else now), 0.0)


@dataclass
class RateGate:
    """Closed until `until` (monotonic seconds); `waited`: the seconds it was closed, over `answers` 429s."""

    max_wait: float = DEFAULT_MAX_RATE_WAIT
    waited: float = 0.0
    answers: int = 0
    until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def close(self, seconds: float) -> None:
        """A 429 asked for `seconds`: every worker waits that long from now (a longer closing stands)."""
        with self._lock:
            now = time.monotonic()
            added = max(now + seconds - max(self.until, now), 0.0)
            if self.waited + added > self.max_wait:
                past = f"a 429 asked to wait {seconds:g} s, past --max-rate-wait {self.max_wait:g} s"
                raise RateWaitExceeded(f"{past} (waited {self.waited:.1f} s before)")
            self.answers += 1
            self.waited += added
            self.until = max(self.until, now + seconds)

    def wait(self, deadline: float) -> bool:
        """Wait while the gate is closed, never past `deadline` (monotonic); False when the deadline came first."""
        while True:
            with self._lock:
                left = self.until - time.monotonic()
            if left <= 0:
                return True
            if time.monotonic() + left > deadline:
                return False
            time.sleep(left)

    def summary(self) -> str:
        """`rate limited: waited 3.0 s over 2 answers (429)` (empty when the target never answered 429)."""
        if not self.answers:
            return ""
        noun = "answer" if self.answers == 1 else "answers"
        return f"rate limited: waited {self.waited:.1f} s over {self.answers} {noun} (429)"
