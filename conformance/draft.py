"""`respkit profile draft RECORDINGS... --name NAME [--base openai]`: onboard a provider in minutes.

The provider's recordings are replayed under the base profile; every failure is grouped by check and
place (its JSON Pointer with item indexes made `*`), with the recordings that show it, and written as a
profile whose deviations a person reviews: each `why` is left empty to be filled in. The draft is
validated against the profile format and replayed before it is written: the recordings pass under it,
and anything else they would break (another check, another place) still fails.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from respkit.conformance.findings import count
from respkit.conformance.profiles import Deviation, Profile, load_profile, parse_profile
from respkit.conformance.replay import Result, check_recording, discover, load_recording

#: a JSON Pointer token that indexes an array: the same place in every item
_INDEX = re.compile(r"/\d+(?=/|$)")


@dataclass
class Group:
    """The failures of one check at one place, and the recordings that show them."""

    check: str
    pointer: str
    count: int = 0
    evidence: list[str] = field(default_factory=list)
    example: str = ""


@dataclass(frozen=True)
class Draft:
    text: str
    profile: Profile
    groups: tuple[Group, ...]
    recordings: int
    failing: int


def place(pointer: str) -> str:
    """A finding's pointer with array indexes as `*` (the 3rd output item and the 5th are the same place)."""
    return _INDEX.sub("/*", pointer)


def draft(paths: list[Path], name: str, base: str = "openai") -> Draft:
    """A profile under which `paths` replay clean, from what fails under `base`."""
    base_profile = load_profile(base)
    recordings = [load_recording(p, base) for p in discover(paths)]
    results = [check_recording(r, base_profile) for r in recordings]
    groups = _groups(results)
    text = render(name, base_profile, groups, results)
    where = Path(f"{name}.yaml")
    profile = parse_profile(where, yaml.safe_load(text))
    return Draft(text, profile, tuple(groups), len(results), sum(r.failed for r in results))


def _groups(results: list[Result]) -> list[Group]:
    groups: dict[tuple[str, str], Group] = {}
    for result in results:
        label = _evidence(result.recording.path)
        for finding in (f for f in result.findings if f.fails):
            key = (finding.check, place(finding.pointer))
            group = groups.setdefault(key, Group(*key, example=finding.message))
            group.count += 1
            if label not in group.evidence:
                group.evidence.append(label)
    return sorted(groups.values(), key=lambda g: (g.check, g.pointer))


def _evidence(path: Path) -> str:
    """How a profile names a recording: its folder and file, as the corpus and bundled profiles do."""
    return f"{path.parent.name}/{path.name}"


def render(name: str, base: Profile, groups: list[Group], results: list[Result]) -> str:
    """The draft as YAML, with comments for the reviewer (each value JSON-quoted, which YAML reads)."""
    q = json.dumps
    lines = [
        f"# Draft by `respkit profile draft` from {count(len(results), 'recording')} replayed under `{base.name}`.",
        "# Review each deviation: fill in its `why` (what the provider does), narrow its pointer or drop it.",
        f"name: {q(name)}",
        f"description: {q(f'Draft profile for {name}: review before use.')}",
    ]
    models = _models(results)
    if models:
        lines.append(f"models: {{text: {q(models[0])}}}  # the model most of the recordings name")
    lines.append(f"done_sentinel: {base.done_sentinel}")
    lines += [f"extension_events: {q(list(base.extension_events))}"] if base.extension_events else []
    kept = [_kept(d) for d in base.deviations]
    added = [_added(g) for g in groups]
    lines += ["deviations:" + (" []" if not kept + added else ""), *[x for block in kept + added for x in block]]
    return "\n".join(lines) + "\n"


def _kept(dev: Deviation) -> list[str]:
    q = json.dumps
    out = [f"  - check: {q(dev.check)}  # from the base profile"]
    out += [f"    pointer: {q(list(dev.pointers))}"] if dev.pointers else []
    out += [f"    message: {q(dev.message)}"] if dev.message else []
    out.append(f"    why: {q(dev.why)}")
    out += [f"    evidence: {q(list(dev.evidence))}"] if dev.evidence else []
    return out


def _added(group: Group) -> list[str]:
    q = json.dumps
    many = "s" if group.count != 1 else ""
    out = [f"  - check: {q(group.check)}  # {group.count} finding{many}, e.g. {_one_line(group.example)}"]
    out += [f"    pointer: {q(group.pointer)}"] if group.pointer else []
    out.append('    why: ""  # fill in: what does the provider do here?')
    out.append(f"    evidence: {q(group.evidence)}")
    return out


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 100 else flat[:99] + "…"


def _models(results: list[Result]) -> list[str]:
    """Model names the recordings' responses carry, most common first."""
    seen: Counter[str] = Counter()
    for result in results:
        if result.recording.kind != "error":
            seen.update(re.findall(r'"model":\s*"([^"]{1,200})"', _head(result.recording.path)))
    return [m for m, _ in seen.most_common()]


def _head(path: Path, limit: int = 1 << 16) -> str:
    with path.open("rb") as fh:
        return fh.read(limit).decode("utf-8", "replace")


def replay_under(draft_: Draft, paths: list[Path]) -> list[Result]:
    """The recordings replayed under the draft (what the command shows before it writes)."""
    return [check_recording(load_recording(p), draft_.profile) for p in discover(paths)]


def summary(draft_: Draft, after: list[Result]) -> str:
    failed = sum(r.failed for r in after)
    return (
        f"{count(len(draft_.groups), 'deviation')} drafted from "
        f"{count(draft_.recordings, 'recording')} ({draft_.failing} failing under the base profile); "
        f"under the draft: {failed} failing"
    )
