"""An incremental reader of `text/event-stream` bodies.

It follows the WHATWG HTML "event stream" interpretation rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end with CRLF, LF or CR; a leading U+FEFF BOM is skipped; a line starting with `:` is a comment;
`field: value` drops one space after the colon; a line without a colon is a field with an empty value;
`data` lines are joined with LF; `id` without NUL sets the last event id; `retry` takes ASCII digits
only; unknown fields are ignored; a blank line dispatches the event, unless its data buffer is empty.

Where the rules say to discard, the reader keeps what it saw so that checks can report it: a trailing
event without its blank line is returned with `terminated=False` (a browser would drop it), bytes that
are not UTF-8 are decoded with U+FFFD and their offset recorded, and the order of the `event` and
`data` fields is kept. Chunks are consumed as they arrive; only the current line and event are held,
and a long line costs time in proportion to its length (its chunks are joined once, when it ends).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: the usual event, read whole when the reader is between events: `event: T` (optional), `data: D`, a blank line
_COMMON = re.compile(r"(?:event: ([^\n]*+)\n)?data: ([^\n]*+)\n\n")


@dataclass(slots=True)
class Frame:
    """One dispatched event, with the framing facts the checks need."""

    index: int
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    data_before_event: bool = False
    terminated: bool = True
    bad_utf8_offset: int | None = None


class SseReader:
    """Feed it chunks with `feed()`, then call `close()`; both return the frames completed so far."""

    def __init__(self) -> None:
        #: the chunks of the line still arriving (joined once its end arrives)
        self._pending: list[bytes] = []
        self._skip_lf = False
        self._started = False
        self._offset = 0
        self._count = 0
        self.last_event_id = ""
        self.retry: int | None = None
        self.comments = 0
        self._reset()

    def _reset(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._data_first = False
        self._bad: int | None = None

    def feed(self, chunk: bytes) -> list[Frame]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                self._offset += 1
        if self._started and b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)  # the middle of a line: nothing to read until it ends
            return []
        buf = b"".join([*self._pending, chunk]) if self._pending else chunk
        self._pending = []
        if not self._started:
            if len(buf) < 3 and b"\xef\xbb\xbf".startswith(buf):
                self._pending = [buf]
                return []
            self._started = True
            if buf.startswith(b"\xef\xbb\xbf"):
                buf = buf[3:]
                self._offset += 3
        if b"\r" not in buf:
            return self._lf_only(buf)
        lines = buf.splitlines(keepends=True)
        if lines and not lines[-1].endswith((b"\n", b"\r")):
            self._pending = [lines.pop()]
        elif buf.endswith(b"\r"):
            self._skip_lf = True
        return self._lines(lines)

    def _lines(self, lines: list[bytes]) -> list[Frame]:
        out: list[Frame] = []
        for raw in lines:
            frame = self._line(raw)
            if frame is not None:
                out.append(frame)
        return out

    def _lf_only(self, buf: bytes) -> list[Frame]:
        """The common case (LF line ends only): decode every complete line at once."""
        end = buf.rfind(b"\n")
        self._pending = [buf[end + 1 :]] if end + 1 < len(buf) else []
        if end < 0:
            return []
        body = buf[: end + 1]
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._lines(body.splitlines(keepends=True))
        self._offset += len(body)
        out: list[Frame] = []
        pos, end = 0, len(text)
        while pos < end:
            if self._idle():
                pos = self._common(text, pos, out)
                if pos == end:
                    break
            stop = text.index("\n", pos)
            frame = self._lf_line(text[pos:stop])
            pos = stop + 1
            if frame is not None:
                out.append(frame)
        return out

    def _idle(self) -> bool:
        """Between events: nothing of the next event read yet."""
        return not self._data and self._event is None and self._id is None and self._retry is None and self._bad is None

    def _common(self, text: str, pos: int, out: list[Frame]) -> int:
        """From `pos`, between events: the usual events (`event: T` optional, `data: D`, a blank line), each
        one frame without touching the reader's state; returns where the first other line starts."""
        match = _COMMON.match
        common = match(text, pos)
        while common is not None:
            out.append(Frame(self._count, common[2], common[1]))
            self._count += 1
            pos = common.end()
            common = match(text, pos)
        return pos

    def _lf_line(self, line: str) -> Frame | None:
        """One decoded line: the common lines inlined; `_text` has the general rules."""
        if not line:
            if self._data:
                return self._dispatch(terminated=True)
            self._reset()
        elif line.startswith("data: "):
            if self._event is None and not self._data:
                self._data_first = True
            self._data.append(line[6:])
        elif line.startswith("event: "):
            self._event = line[7:]
        else:
            return self._text(line)
        return None

    def close(self) -> list[Frame]:
        """End of stream: a last line without its line end, and an event without its blank line."""
        out: list[Frame] = []
        if self._pending:
            raw, self._pending = b"".join(self._pending), []
            frame = self._line(raw)
            if frame is not None:
                out.append(frame)
        if self._data:
            out.append(self._dispatch(terminated=False))
        return out

    def _line(self, raw: bytes) -> Frame | None:
        start = self._offset
        self._offset += len(raw)
        body = raw.rstrip(b"\r\n") if raw.endswith((b"\n", b"\r")) else raw
        try:
            line = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = body.decode("utf-8", errors="replace")
            if self._bad is None:
                self._bad = start + exc.start
        return self._text(line)

    def _text(self, line: str) -> Frame | None:
        if not line:
            if self._data:
                return self._dispatch(terminated=True)
            self._reset()
            return None
        if line[0] == ":":
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            if self._event is None and not self._data:
                self._data_first = True
            self._data.append(value)
        else:
            self._field(name, value)
        return None

    def _field(self, name: str, value: str) -> None:
        if name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
            self.retry = self._retry

    def _dispatch(self, terminated: bool) -> Frame:
        data, event = self._data, self._event
        frame = Frame(
            self._count,
            data[0] if len(data) == 1 else "\n".join(data),
            event,
            self._id,
            self._retry,
            self._data_first and event is not None,
            terminated,
            self._bad,
        )
        self._count += 1
        self._reset()
        return frame


def read_frames(chunks: Iterable[bytes]) -> Iterator[Frame]:
    """Every frame of a body given as chunks, as they complete."""
    reader = SseReader()
    for chunk in chunks:
        yield from reader.feed(chunk)
    yield from reader.close()


#: a line an event stream is made of: a field the reader acts on (`data`, `event`, `id`, `retry`)
_FIELD_LINE = re.compile(rb"(?m)^(?:\xef\xbb\xbf)?(?:data|event|id|retry)(?::|\r?$)")


def looks_like_event_stream(head: bytes) -> bool:
    """Whether the start of a body reads as an event stream: empty, or with a line that is a field the
    reader acts on. Other bytes (random, a JSON body) would only be counted as a stream of 0 events."""
    return not head.strip() or _FIELD_LINE.search(head) is not None


def head_through(body: bytes, sequence_number: int) -> tuple[bytes, int] | None:
    """The frames of a stream up to and including the event numbered `sequence_number`, framed again
    (`event:` if it had one, then its `data:` lines), and how many they are; None if no event has that
    number. A stream resumed with `starting_after` is checked after them: it must continue them seamlessly."""
    out: list[str] = []
    for frame in read_frames([body]):
        out.append(
            (f"event: {frame.event}\n" if frame.event is not None else "")
            + "".join(f"data: {line}\n" for line in frame.data.split("\n"))
            + "\n"
        )
        try:
            event = json.loads(frame.data)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("sequence_number") == sequence_number:
            return "".join(out).encode(), len(out)
    return None
