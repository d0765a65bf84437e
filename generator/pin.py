"""Moving the pin in a spec config by editing its lines, so that the file keeps its comments and order.

The pin's three lines always describe one set of bytes: `sha256`, the `url` serving them (`null` when
none is known: the spec came from a local file), and `local`, a copy inside the repository (a line
without one is kept as a comment, so that moving back puts the same line in the same place).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from respkit.generator.errors import SpecError

KEY_LINE = re.compile(r"^(?P<indent>[ \t]+)(?P<retired># )?(?P<key>url|sha256|local):[ \t]*(?P<value>.*?)\s*$")
PLAIN = re.compile(r"[A-Za-z0-9_.~+/-][A-Za-z0-9_.~+/:=%-]*")
UNPINNED = "null  # unpinned: read from a local file; `respkit spec update --from FILE --url URL` names its URL"
NO_LOCAL = "(none: the spec is read from the URL, or from the cache by sha256)"

#: the pin's lines as a file has them, by key ("url", "sha256", "local"); a missing key has no line
Lines = dict[str, str]


def scalar(value: str) -> str:
    """A YAML scalar for ``value``: plain when that is safe, else double-quoted."""
    return value if PLAIN.fullmatch(value) else json.dumps(value)


def _block(lines: list[str], where: str) -> tuple[int, int]:
    """The lines of the top-level ``upstream:`` mapping: (its header line, the line after its end)."""
    start = next((i for i, line in enumerate(lines) if re.match(r"upstream:\s*(#.*)?$", line)), None)
    if start is None:
        raise SpecError(where, "/upstream", "no top-level `upstream:` line to edit")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    return start, end


def _keys(lines: list[str], where: str) -> dict[str, tuple[int, str]]:
    """Where each key's line is (a retired `# local:` line counts as local's place) and its indent."""
    start, end = _block(lines, where)
    found: dict[str, tuple[int, str]] = {}
    for i in range(start + 1, end):
        match = KEY_LINE.match(lines[i].rstrip("\n"))
        if match and (not match["retired"] or match["key"] == "local"):
            found.setdefault(match["key"], (i, match["indent"]))
    for key in ("url", "sha256"):
        if key not in found:
            raise SpecError(where, f"/upstream/{key}", f"no `{key}:` line to edit")
    return found


def pin_lines(text: str, where: str) -> Lines:
    """The pin's lines as they are (to put back verbatim when an update is undone)."""
    lines = text.splitlines(keepends=True)
    return {key: lines[at] for key, (at, _) in _keys(lines, where).items()}


def repin(text: str, where: str, *, sha256: str, url: str | None, local: str | None) -> str:
    """``text`` with the pin moved to ``sha256``, served by ``url`` (None: unpinned), with a copy at ``local``
    (None: no copy; its line is retired to a comment)."""
    lines = text.splitlines(keepends=True)
    keys = _keys(lines, where)
    indent = keys["sha256"][1]
    wanted: Lines = {
        "sha256": f"{indent}sha256: {sha256}\n",
        "url": f"{indent}url: {scalar(url) if url else UNPINNED}\n",
        "local": f"{indent}local: {scalar(local)}\n" if local else f"{indent}# local: {NO_LOCAL}\n",
    }
    if not local and "local" not in keys:
        del wanted["local"]
    result = put_lines(text, where, wanted)
    _verify(result, where, sha256, url, local)
    return result


def put_lines(text: str, where: str, wanted: Lines) -> str:
    """``text`` with the pin's lines replaced by ``wanted`` (a local line without a place goes after sha256)."""
    lines = text.splitlines(keepends=True)
    keys = _keys(lines, where)
    for key, line in wanted.items():
        if key in keys:
            lines[keys[key][0]] = line
    if "local" in wanted and "local" not in keys:
        lines.insert(keys["sha256"][0] + 1, wanted["local"])
    return "".join(lines)


def _verify(text: str, where: str, sha256: str, url: str | None, local: str | None) -> None:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        raise SpecError(where, "/upstream", "editing the pin lines did not give valid YAML") from None
    up = data.get("upstream") if isinstance(data, dict) else None
    if not isinstance(up, dict):
        raise SpecError(where, "/upstream", "editing the pin lines did not give an upstream mapping")
    if (up.get("sha256"), up.get("url"), up.get("local")) != (sha256, url, local):
        raise SpecError(where, "/upstream", "editing the pin lines did not move the pin; edit the file by hand")
