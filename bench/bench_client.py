"""The generated client beside the official `openai` package, in one run, against the same local server
and the same streams: stream throughput (events/s), import time and cold start in fresh processes.

    python bench/bench_client.py [--events 20000] [--runs 5]

The server runs in its own process (so that it does not share the client's interpreter) and serves
canned bytes: a Responses stream of N `response.output_text.delta` events between the usual opening and
closing events, one HTTP chunk per event, and a canned JSON `Response` for non-streamed creates.
Targets: events/s at least 5x the official SDK's; import at most 1/5 of its; cold start at most 1/2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = "gpt-4.1"


# --- the canned server ----------------------------------------------------------------------------


def _response(status: str, text: str | None) -> dict[str, object]:
    output = (
        []
        if text is None
        else [
            {
                "id": "msg_bench",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        ]
    )
    return {
        "id": "resp_bench",
        "object": "response",
        "created_at": 1_700_000_000,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }


def canned_stream(deltas: int) -> list[bytes]:
    """The SSE frames of a text stream with `deltas` delta events."""
    words = [f" w{i % 97}" for i in range(deltas)]
    text = "".join(words)
    item = {"id": "msg_bench", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    events: list[dict[str, object]] = [
        {"type": "response.created", "response": _response("in_progress", None)},
        {"type": "response.in_progress", "response": _response("in_progress", None)},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {
            "type": "response.content_part.added",
            "item_id": "msg_bench",
            "output_index": 0,
            "content_index": 0,
            "part": part,
        },
    ]
    for word in words:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_bench",
                "output_index": 0,
                "content_index": 0,
                "delta": word,
                "logprobs": [],
                "obfuscation": "x1y2z3",
            }
        )
    done_part = {**part, "text": text}
    events += [
        {
            "type": "response.output_text.done",
            "item_id": "msg_bench",
            "output_index": 0,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_bench",
            "output_index": 0,
            "content_index": 0,
            "part": done_part,
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {**item, "status": "completed", "content": [done_part]},
        },
        {"type": "response.completed", "response": _response("completed", text)},
    ]
    frames = []
    for number, event in enumerate(events):
        event["sequence_number"] = number
        frames.append(f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode())
    return frames


async def _serve(port_file: Path, deltas: int) -> None:
    frames = canned_stream(deltas)
    chunks = [b"%x\r\n%s\r\n" % (len(f), f) for f in frames]
    json_body = json.dumps(_response("completed", "Hello from the bench server.")).encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                if b'"stream":true' in body.replace(b" ", b""):
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                    )
                    for start in range(0, len(chunks), 256):
                        writer.write(b"".join(chunks[start : start + 256]))
                        await writer.drain()
                    writer.write(b"0\r\n\r\n")
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (len(json_body), json_body)
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port_file.write_text(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


def start_server(deltas: int) -> tuple[subprocess.Popen[bytes], str]:
    port_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_client_port_{os.getpid()}"
    port_file.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file), "--events", str(deltas)])
    deadline = time.monotonic() + 20
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the bench server did not start")
        time.sleep(0.02)
    port = port_file.read_text()
    port_file.unlink()
    return process, f"http://127.0.0.1:{port}/v1"


# --- measurements ---------------------------------------------------------------------------------


def throughput_respkit(url: str) -> tuple[int, float, str]:
    from respkit.generated import ResponsesClient

    with ResponsesClient(base_url=url, api_key="sk-bench", max_retries=0) as client:
        start = time.perf_counter()
        with client.responses.create(model=MODEL, input="bench", stream=True) as stream:
            count = sum(1 for _ in stream)
            text = stream.get_final_text()
        return count, time.perf_counter() - start, text


def throughput_openai(url: str) -> tuple[int, float, str]:
    import openai

    with openai.OpenAI(base_url=url, api_key="sk-bench", max_retries=0) as client:
        start = time.perf_counter()
        stream = client.responses.create(model=MODEL, input="bench", stream=True)
        count, text = 0, ""
        for event in stream:
            count += 1
            if event.type == "response.completed":
                text = event.response.output_text
        return count, time.perf_counter() - start, text


IMPORTS = {
    "respkit": "from generated import ResponsesClient",
    "openai": "import openai",
}
COLD = {
    "respkit": (
        "from generated import ResponsesClient, output_text\n"
        "with ResponsesClient(base_url={url!r}, api_key='sk-bench') as c:\n"
        "    r = c.responses.create(model='gpt-4.1', input='hi')\n"
        "    assert output_text(r)\n"
        "    import time; print(time.time())"
    ),
    "openai": (
        "import openai\n"
        "with openai.OpenAI(base_url={url!r}, api_key='sk-bench') as c:\n"
        "    r = c.responses.create(model='gpt-4.1', input='hi')\n"
        "    assert r.output_text\n"
        "    import time; print(time.time())"
    ),
}


def fresh(code: str) -> tuple[float, float]:
    """A fresh interpreter running `code`: seconds until it printed its result (a `time.time()`), and until
    it exited (interpreter teardown included)."""
    start = time.time()
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True)
    end = time.time()
    done = float(out.stdout) if out.stdout.strip() else end
    return done - start, end - start


def import_time(statement: str) -> float:
    """Seconds the import statement takes inside a fresh interpreter."""
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="delta events per stream")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        import openai  # noqa: F401  (the peer this bench measures against)
    except ImportError:
        raise SystemExit("bench_client needs the official openai package: pip install -e '.[test]'") from None
    if args.serve:
        asyncio.run(_serve(Path(args.serve), args.events))
        return

    process, url = start_server(args.events)
    try:
        print(f"server: {url}, one stream = {args.events + 8} events; best/median of {args.runs} runs\n")
        rates: dict[str, float] = {}
        for name, run in (("respkit", throughput_respkit), ("openai", throughput_openai)):
            run(url)  # warm up: first-use imports and schema builds
            results = [run(url) for _ in range(args.runs)]
            counts = {r[0] for r in results}
            assert counts == {args.events + 8}, (name, counts)
            assert all(r[2].startswith(" w0 w1") for r in results), name
            rates[name] = max(r[0] / r[1] for r in results)
        print("stream throughput (events/s, best)")
        for name, rate in rates.items():
            print(f"  {name:8} {rate:12,.0f}")
        print(f"  ratio    {rates['respkit'] / rates['openai']:12.1f}x  (target >= 5x)\n")

        baseline = statistics.median(fresh("pass")[1] for _ in range(args.runs))
        imports = {n: statistics.median(import_time(s) for _ in range(args.runs)) for n, s in IMPORTS.items()}
        print("import time in a fresh process (s, median)")
        for name, seconds in imports.items():
            print(f"  {name:8} {seconds:8.3f}   `{IMPORTS[name]}`")
        print(f"  ratio    {imports['respkit'] / imports['openai']:8.2f}   (target <= 0.20)\n")

        runs = {n: [fresh(c.format(url=url)) for _ in range(args.runs)] for n, c in COLD.items()}
        cold = {n: statistics.median(r[0] for r in rs) for n, rs in runs.items()}
        whole = {n: statistics.median(r[1] for r in rs) for n, rs in runs.items()}
        print(f"cold start: fresh process, import, build, one create (s, median; bare interpreter {baseline:.3f})")
        print("           until the create returned | until the process exited")
        for name in COLD:
            print(f"  {name:8} {cold[name]:8.3f}                    | {whole[name]:8.3f}")
        print(
            f"  ratio    {cold['respkit'] / cold['openai']:8.2f}   (target <= 0.50)     | "
            f"{whole['respkit'] / whole['openai']:8.2f}"
        )
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
