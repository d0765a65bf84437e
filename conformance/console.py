"""The console view: a provider-by-check matrix, then the failures in full, each root cause once."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from respkit.conformance.replay import Result
from respkit.conformance.reports import LEGEND, cell_text, count, describe, matrix, root_causes, skips, tally

STYLE = {"o": "green", "F": "bold red", "D": "yellow", "~": "cyan", "U": "magenta"}


def print_results(
    results: Sequence[Result], spec: str, console: Console | None = None, title: str = "respkit replay"
) -> None:
    out = console or Console(highlight=False)
    if not out.is_terminal:
        out.width = max(out.width, 120, 48 + 12 * len({r.recording.provider for r in results}))
    checks, providers, cells = matrix(results)
    out.print(f"{title}: {spec}", markup=False, soft_wrap=True)
    table = Table(show_lines=False)
    table.add_column("check")
    for p in providers:
        table.add_column(p, justify="center")
    for c in checks:
        texts = [cell_text(cells.get((c, p))) for p in providers]
        table.add_row(c, *(f"[{STYLE.get(t[:1], 'white')}]{t}[/]" for t in texts))
    out.print(table)
    out.print(LEGEND, markup=False, style="dim", soft_wrap=True)
    from respkit.conformance.checks import REGISTRY, load_all

    load_all()
    quiet = len(set(REGISTRY) - set(checks))
    if checks:
        others = count(quiet, "registered check")
        shown = f"{count(len(checks), 'check')} with findings above; the other {others} found none"
    else:
        shown = f"none of the {count(quiet, 'registered check')} found anything"
    out.print(shown, markup=False)
    for cause in root_causes(results):
        if cause.first.fails:
            # soft wrap: a long `reproduce` command stays one line that pastes as it is
            out.print(describe(cause), markup=False, soft_wrap=True)
    for line in skips(results):
        out.print(f"[skipped] {line}", markup=False, soft_wrap=True)
    out.print(tally(results), markup=False)
