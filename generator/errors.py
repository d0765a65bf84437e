"""The one error type the generator raises for bad input: it names the file and the JSON Pointer."""

from __future__ import annotations


class SpecError(Exception):
    """A problem with a spec, a config or an overlay, told in one line.

    ``source`` is the file or URL, ``pointer`` the JSON Pointer inside it (empty for the whole file).
    """

    def __init__(self, source: str, pointer: str, message: str) -> None:
        self.source = source
        self.pointer = pointer
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}#{self.pointer}" if self.pointer else self.source
        return f"{where}: {self.message}"


class Inapplicable(SpecError):
    """An overlay action whose target this spec version lacks (the schema, property or requirement it
    corrects is not there). Fatal for overlays; an erratum in that state is moot and is skipped."""
