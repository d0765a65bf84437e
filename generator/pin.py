"""Moving the pin in a spec config by editing its lines, so that the file keeps its comments and order."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from respkit.generator.errors import SpecError

KEY_LINE = re.compile(r"^(?P<indent>[ \t]+)(?P<key>url|sha256|local):[ \t]*(?P<value>.*?)\s*$")
PLAIN = re.compile(r"[A-Za-z0-9_.~+/-][A-Za-z0-9_.~+/:=%-]*")
STALE_URL = "  # the previous pin's URL: set the URL of this sha256"


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


def _keys(lines: list[str], start: int, end: int) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for i in range(start + 1, end):
        match = KEY_LINE.match(lines[i].rstrip("\n"))
        if match:
            found.setdefault(match["key"], (i, match["indent"]))
    return found


def repin(text: str, where: str, *, sha256: str, url: str | None = None, local: str | None = None) -> str:
    """``text`` with the pin moved: a URL replaces ``url`` (and retires ``local``, whose copy has the old
    sha256); a local copy replaces ``local`` (and marks ``url`` as the previous pin's)."""
    lines = text.splitlines(keepends=True)
    start, end = _block(lines, where)
    keys = _keys(lines, start, end)
    for key in ("url", "sha256"):
        if key not in keys:
            raise SpecError(where, f"/upstream/{key}", f"no `{key}:` line to edit")
    at, indent = keys["sha256"]
    lines[at] = f"{indent}sha256: {sha256}\n"
    if url is not None:
        at, indent = keys["url"]
        lines[at] = f"{indent}url: {scalar(url)}\n"
        if "local" in keys:
            at, indent = keys["local"]
            lines[at] = f"{indent}# local: (retired by `respkit spec update`; name a copy of this sha256 here)\n"
    if local is not None:
        line = f"{keys['sha256'][1]}local: {scalar(local)}\n"
        if "local" in keys:
            lines[keys["local"][0]] = line
        else:
            lines.insert(keys["sha256"][0] + 1, line)
        at, _ = keys["url"]
        if STALE_URL not in lines[at]:
            lines[at] = lines[at].rstrip("\n") + STALE_URL + "\n"
    result = "".join(lines)
    _verify(result, where, sha256, url, local)
    return result


def _verify(text: str, where: str, sha256: str, url: str | None, local: str | None) -> None:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        raise SpecError(where, "/upstream", "editing the pin lines did not give valid YAML") from None
    up = data.get("upstream") if isinstance(data, dict) else None
    if not isinstance(up, dict):
        raise SpecError(where, "/upstream", "editing the pin lines did not give an upstream mapping")
    ok = up.get("sha256") == sha256
    ok = ok and (url is None or up.get("url") == url) and (local is None or up.get("local") == local)
    if not ok:
        raise SpecError(where, "/upstream", "editing the pin lines did not move the pin; edit the file by hand")
