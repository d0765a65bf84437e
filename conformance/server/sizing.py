"""How many bytes a stored response keeps, so that the store can hold itself to a byte cap.

A request's JSON text says little about its size in memory (a 3.3 MB body of 100,000 small items keeps
some 80 MB as Python objects), so the count is taken from the objects themselves: `sys.getsizeof` of
every object a record reaches. An object shared by several values (a dict key, a conversation's earlier
items) is counted once per reference, so the count errs high: never below what tracemalloc sees the
record keep (a test holds it to that)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import Any

from respkit.conformance.server.record import Record

#: The record, its plan and parts around the values counted (a generous flat figure)
RECORD_OVERHEAD = 4096
CONTAINERS = (dict, list, tuple)


def json_levels(*values: Any) -> Iterator[list[Any]]:
    """The objects of JSON-like values one nesting level at a time (dict keys and values, list and tuple
    items): `gc.get_referents` walks a level at C speed, ten times faster than a Python walk."""
    level = list(values)
    while level:
        yield level
        level = gc.get_referents(*[v for v in level if type(v) in CONTAINERS])


def json_bytes(*values: Any) -> int:
    """Bytes JSON-like values (dicts, lists, tuples, strings, numbers) hold."""
    return sum(sum(map(sys.getsizeof, level)) for level in json_levels(*values))


def record_bytes(record: Record) -> int:
    """What storing `record` costs: its request, input items, conversation history and planned output."""
    parts = record.plan.parts
    planned = [(p.pieces, p.annotations, p.name) for p in parts]
    return RECORD_OVERHEAD + json_bytes(record.request, record.input_items, record.history, planned, record.ids)
