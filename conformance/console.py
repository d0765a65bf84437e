"""The console view: a provider-by-check matrix, then the failures in full."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from conformance.replay import Result
from conformance.reports import cell_text, describe, matrix, summary

STYLE = {"ok": "green", "F": "bold red", "D": "yellow", "d": "cyan"}


def print_results(
    results: Sequence[Result], spec: str, console: Console | None = None, title: str = "respkit replay"
) -> None:
    out = console or Console(highlight=False)
    if not out.is_terminal:
        out.width = max(out.width, 120, 48 + 12 * len({r.recording.provider for r in results}))
    checks, providers, cells = matrix(results)
    table = Table(title=f"{title}: {spec}", show_lines=False)
    table.add_column("check")
    for p in providers:
        table.add_column(p, justify="center")
    for c in checks:
        texts = [cell_text(cells.get((c, p))) for p in providers]
        table.add_row(c, *(f"[{STYLE.get(t[:1], 'white')}]{t}[/]" for t in texts))
    out.print(table)
    from conformance.checks import REGISTRY, load_all

    load_all()
    quiet = len(set(REGISTRY) - set(checks))
    out.print(f"{len(checks)} checks with findings above; the other {quiet} registered checks found none", markup=False)
    for r in results:
        for f in r.findings:
            if f.fails:
                out.print(describe(f), markup=False)
    s = summary(results)
    out.print(
        f"{s['recordings']} recordings: {s['failed_recordings']} failed; "
        f"{s['failure']} failures, {s['deviation']} deviations, {s['drift']} drift",
        markup=False,
    )
