"""How much a target or a file may make respkit spend. Every bound has a default and an option to raise
it; hitting one is a finding or a one-line error, never a hang, a crash or a silent cut.

The command line sets the bounds once per run (`using`); the engine and the live session read them with
`current()`, so library callers get the defaults without passing anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The bounds of one run; each field is the command-line option of the same name (`--max-findings`)."""

    #: seconds a whole live run (`check`, `record`) may talk to its target
    deadline: float = 240.0
    #: seconds one stream may take from its headers to its end
    max_stream_seconds: float = 120.0
    #: bytes one stream may send
    max_stream_bytes: int = 256 * MIB
    #: bytes one body that is not a stream may have (it is held whole to be parsed)
    max_body_bytes: int = 64 * MIB
    #: findings of one check kept per stream or body; the rest are counted in one finding
    max_findings: int = 100
    #: bytes a spec (a file or a download) may have
    max_spec_bytes: int = 64 * MIB
    #: nodes a YAML spec may have once its aliases are expanded (an alias bomb has billions)
    max_yaml_nodes: int = 1_000_000


_CURRENT: ContextVar[Limits | None] = ContextVar("respkit_limits", default=None)


def current() -> Limits:
    """The run's bounds (the defaults outside `using`)."""
    return _CURRENT.get() or Limits()


@contextmanager
def using(limits: Limits | None) -> Iterator[Limits | None]:
    """Make `limits` the run's bounds for the duration of the block."""
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


def option(name: str) -> str:
    """A field's command-line option: `max_findings` -> `--max-findings`."""
    return "--" + name.replace("_", "-")


def from_args(args: Any) -> Limits:
    """The bounds given on the command line (a command without an option keeps its default); a bound that
    is not positive is a usage error naming the option."""
    from respkit.conformance.cli import UsageError

    values = {f.name: getattr(args, f.name, None) for f in fields(Limits)}
    for name, value in values.items():
        if value is not None and value <= 0:
            raise UsageError(f"{option(name)} {value:g}: expected a positive number")
    return Limits(**{k: v for k, v in values.items() if v is not None})


def size(n: int) -> str:
    """A byte count as people read it: `64 MiB`, `1500 bytes`."""
    return f"{n / MIB:g} MiB" if n >= MIB else f"{n} bytes"
