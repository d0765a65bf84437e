"""What a live check shows while it runs: on a terminal, a rich progress display (tasks done of total,
what is running, failures so far) that leaves the screen when the run ends; with `-v`, a line as each
task ends, in a pipe too. Nothing of the display in a pipe, with NO_COLOR, `--no-color` or `-q`."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from respkit.conformance.live.runner import Watcher

#: how many running tasks the display names (the rest are counted)
SHOWN_RUNNING = 3


def wants_display(args: Any, stream: TextIO | None = None) -> bool:
    """A progress display only for a person at a terminal who did not turn it (or colour) off."""
    out = stream or sys.stdout
    if getattr(args, "quiet", False) or getattr(args, "no_color", False) or os.environ.get("NO_COLOR"):
        return False
    return out.isatty()


class LiveProgress(Watcher):
    """The display (`display`) and the lines (`lines`), fed by the run's workers (thread-safe)."""

    def __init__(self, display: bool, lines: bool, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.lines = lines
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failures]}"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[running]}"),
            console=self.console,
            transient=True,
            disable=not display,
        )
        self.lock = threading.Lock()
        self.running: list[str] = []
        self.failures = 0
        self.task: Any = None

    def __enter__(self) -> LiveProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def phase(self, name: str, total: int) -> None:
        with self.lock:
            if self.task is not None:
                self.progress.update(self.task, visible=False)
            self.running.clear()
            self.task = self.progress.add_task(name, total=total, failures="", running="")

    def started(self, label: str) -> None:
        with self.lock:
            self.running.append(label)
            self._show()

    def finished(self, label: str, failed: bool) -> None:
        with self.lock:
            if label in self.running:
                self.running.remove(label)
            self.failures += failed
            self.progress.advance(self.task)
            self._show()
        if self.lines:
            self.console.print(f"{'FAILED' if failed else 'done'}: {label}", markup=False, soft_wrap=True)

    def _show(self) -> None:
        names = ", ".join(self.running[:SHOWN_RUNNING])
        more = len(self.running) - SHOWN_RUNNING
        running = f"running {names}" + (f" and {more} more" if more > 0 else "") if self.running else ""
        failures = f"{self.failures} failed" if self.failures else ""
        self.progress.update(self.task, running=running, failures=failures)
