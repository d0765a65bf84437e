"""respkit's embedded reference server: a spec-faithful /responses implementation with quirk modes.

`create_app(...)` builds the ASGI app; `run_server(...)` serves it on a free local port and yields its
base URL. The local model's behaviours are documented in `conformance.server.model`, the quirk modes in
`conformance.server.quirks`."""

from __future__ import annotations

from respkit.conformance.server.app import create_app
from respkit.conformance.server.quirks import QUIRKS, Quirk, get_quirk
from respkit.conformance.server.runner import run_server

__all__ = ["QUIRKS", "Quirk", "create_app", "get_quirk", "run_server"]
