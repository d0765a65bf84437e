"""Regenerate the bundled recordings from the seed documents (`python -m conformance.recordings.extract`).

Only whitespace is repaired: JSON is re-indented, SSE frames get back the line ends the documents lost
(seed 003 folds them as YAML, seed 001 lost every line end, seed 000 has a code fence inside an event).
Whatever the documents themselves elide or cut is kept and named in the sidecar's `artifacts`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

from respkit.conformance.recordings import HERE

SEEDS = HERE.parent.parent.parent / "shared" / "seeds"


def _json_at(text: str, start: int) -> tuple[Any, int] | None:
    """The JSON value starting at `start` (brace balanced), and where it ends."""
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            esc, in_str = (False, in_str) if esc else (ch == "\\", ch != '"')
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                try:
                    return json.loads(text[start : i + 1]), i + 1
                except ValueError:
                    return None
    return None


#: what documented examples written before the spec required a field lack (reported as spec drift)
DOC_DRIFT = {
    "web_search_call": {
        "check": "response_matches_schema",
        "pointer": "/output/*/action",
        "why": "documented before web_search_call.action was required",
    },
    "input_tokens_details": {
        "check": "*",
        "pointer": "*/usage/input_tokens_details",
        "why": "documented before usage.input_tokens_details was required",
    },
}


def _drift(body: str) -> list[dict[str, str]]:
    return [
        note
        for key, note in DOC_DRIFT.items()
        if (key == "web_search_call" and f'"{key}"' in body)
        or (key == "input_tokens_details" and '"usage"' in body and f'"{key}"' not in body.split('"usage"', 1)[1])
    ]


def _write(out: Path, name: str, body: bytes, meta: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    drift = _drift(body.decode("utf-8"))
    if drift:
        meta = {**meta, "drift": drift}
    (out / name).write_bytes(body)
    stem = name.split(".")[0]
    (out / f"{stem}.meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _dump(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def openai_003(seed: Path, out: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    blocks = re.split(r"\n- title: ", text)
    for block in blocks[1:]:
        title = block.split("\n", 1)[0].strip()
        slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
        model = re.search(r'"model": "([^"]+)"', block)
        request = f"{model.group(1) if model else '?'}; example '{title}' of createResponse"
        meta = {
            "provider": "openai",
            "profile": "openai",
            "source": f"seeds/{seed.name}, x-oaiMeta example '{title}'",
            "status": 200,
        }
        if "\nresponse: |\n" in block:
            at = block.index("\nresponse: |\n") + len("\nresponse: |\n")
            found = _json_at(block, at)
            if found is None:
                continue
            meta.update(
                content_type="application/json",
                request=request + "; stream=false",
                transform="re-indented (the document lost its indentation)",
            )
            _write(out, f"{slug}.json", _dump(found[0]), meta)
        elif "\nresponse: >\n" in block:
            body, artifacts = _unfold_stream(block.split("\nresponse: >\n", 1)[1])
            meta.update(
                content_type="text/event-stream",
                request=request + "; stream=true",
                transform="YAML folding undone: lines joined with a space, frames separated by a blank line",
                artifacts=artifacts,
                complete=True,
            )
            _write(out, f"{slug}.sse", body.encode("utf-8"), meta)


def _unfold_stream(folded: str) -> tuple[str, list[dict[str, str]]]:
    frames: list[list[str]] = []
    artifacts: list[dict[str, str]] = []
    for line in folded.split("\n"):
        if line.startswith("event: "):
            frames.append([line, ""])
        elif line.strip() == "...":
            why = "the document elides deltas with '...'"
            artifacts.append({"check": "stream_deltas_match_done", "why": why})
            artifacts.append({"check": "stream_part_matches_value", "why": why})
        elif frames and line.startswith("data:"):
            frames[-1][1] = "data:"
        elif frames and frames[-1][1] and line:
            frames[-1][1] += " " + line
        elif not frames and line.startswith("data:"):
            frames.append(["", "data:"])
        elif line and not frames:
            continue
    lines = []
    for event, data in frames:
        if event.startswith("event: ") and data == "data:":
            artifacts.append({"check": "sse_data_is_json", "why": "the document ends with an empty `data:` line"})
        lines.append("\n".join(x for x in (event, data) if x) + "\n\n")
    return "".join(lines), artifacts


def acedata_000(seed: Path, out: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    src = f"seeds/{seed.name}"
    names = iter(["basic", "image_input", "file_input"])
    for m in re.finditer(r'\{\n  "id": "resp_', text):
        found = _json_at(text, m.start())
        if found is None:
            continue
        name = next(names)
        _write(
            out,
            f"{name}.json",
            _dump(found[0]),
            {
                "provider": "acedata",
                "profile": "acedata",
                "source": f"{src}, example '{name}'",
                "status": 200,
                "content_type": "application/json",
                "request": f"{found[0].get('model')}; stream=false",
                "transform": "re-indented",
            },
        )
    error = _json_at(text, text.index("{", text.index("### Error Response Example")))
    if error is not None:
        _write(
            out,
            "error_api_error.error.json",
            _dump(error[0]),
            {
                "provider": "acedata",
                "profile": "acedata",
                "source": f"{src}, 'Error Response Example'",
                "status": 500,
                "status_note": "the document lists `500 api_error` for this code",
                "content_type": "application/json",
                "request": "any; the document shows no request",
                "transform": "re-indented",
            },
        )
    start = text.index("data: {")
    end = text.index("```python", start)
    raw = text[start:end].replace('"response": \n```\n{', '"response": {')
    frames = [f.strip() for f in raw.split("\n\n") if f.strip()]
    _write(
        out,
        "streaming.sse",
        "".join(f"{f}\n\n" for f in frames).encode("utf-8"),
        {
            "provider": "acedata",
            "profile": "acedata",
            "source": f"{src}, 'Streaming Response'",
            "status": 200,
            "content_type": "text/event-stream",
            "request": "gpt-4.1; stream=true; input=[user]",
            "transform": "a code fence that splits the second event removed; trailing spaces kept",
            "complete": False,
            "artifacts": [
                {"check": "sse_data_is_json", "why": "the document cuts the last event (response.completed)"},
                {"check": "sse_event_terminated", "why": "the document cuts the last event"},
            ],
        },
    )


def acedata_002(seed: Path, out: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    request = _json_at(text, text.index("{", text.index("--data")))
    found = _json_at(text, text.index("{", request[1])) if request else None
    if found is None:
        return
    _write(
        out,
        "v1_responses_reference.json",
        _dump(found[0]),
        {
            "provider": "acedata",
            "profile": "acedata",
            "source": f"seeds/{seed.name}, 'Openai V1 Responses' reference",
            "status": 200,
            "content_type": "application/json",
            "request": "gpt-4o-mini; stream=false; n=1; response_format=json_object (placeholders as documented)",
            "artifacts": [
                {
                    "check": "response_matches_schema",
                    "why": "AceData's reference documents a chat.completion object (placeholders) as the result",
                }
            ],
            "transform": "re-indented",
        },
    )


def fourall_001(seed: Path, out: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    src = f"seeds/{seed.name}"
    titles = ["basic_text", "image_analysis", "web_search", "file_search"]
    pos = 0
    for name in titles:
        pos = text.index("Response example:", pos) + len("Response example:")
        found = _json_at(text, text.index("{", pos))
        if found is None:
            continue
        _write(
            out,
            f"{name}.json",
            _dump(found[0]),
            {
                "provider": "4allapi",
                "profile": "4allapi",
                "source": f"{src}, '{name}' example",
                "status": 200,
                "content_type": "application/json",
                "request": f"{found[0].get('model')}; stream=false",
                "transform": "re-indented (the page lost its line ends)",
            },
        )
    raw = text[text.index("Streaming response example:") + len("Streaming response example:") :].strip()
    frames = []
    for m in re.finditer(r"event: (\S+?)data: ", raw):
        found = _json_at(raw, m.end())
        data = raw[m.end() : found[1]] if found else raw[m.end() :].split("event: ", 1)[0]
        frames.append(f"event: {m.group(1)}\ndata: {data}\n\n")
    _write(
        out,
        "streaming.sse",
        "".join(frames).encode("utf-8"),
        {
            "provider": "4allapi",
            "profile": "4allapi",
            "source": f"{src}, 'Streaming Response' example",
            "status": 200,
            "content_type": "text/event-stream",
            "request": "gpt-4.1; stream=true; instructions=set; input=str",
            "transform": "line ends restored: a line end after each event name, a blank line after each data",
            "complete": False,
            "artifacts": [{"check": "stream_ends_with_terminal", "why": "the page cuts the stream after a few deltas"}],
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="folder of the seed documents")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: this folder)")
    args = parser.parse_args(argv)
    seeds = {p.name[:3]: p for p in args.seeds.glob("*.txt")}
    openai_003(seeds["003"], args.out / "openai")
    acedata_000(seeds["000"], args.out / "acedata")
    acedata_002(seeds["002"], args.out / "acedata")
    fourall_001(seeds["001"], args.out / "4allapi")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
