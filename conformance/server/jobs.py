"""Background responses: queued -> in_progress -> a final status, with an event log streams can follow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from respkit.conformance.server import events
from respkit.conformance.server.events import Event
from respkit.conformance.server.record import Record

QUEUED_SECONDS, WORK_SECONDS, HOLD_SECONDS = 0.05, 0.1, 60.0


class Job:
    """One background response being worked on; its events are kept so that streams can (re)join."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.log: list[Event] = []
        self.closed = False
        self._stopping: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self.task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self._run())

    async def _emit(self, new: Iterable[Event]) -> None:
        async with self._changed:
            self.log.extend(events.numbered(new, len(self.log)))
            self._changed.notify_all()

    async def _close(self) -> None:
        async with self._changed:
            self.closed = True
            self._changed.notify_all()

    async def _run(self) -> None:
        record = self.record
        record.status = "queued"
        await self._emit(events.opening(record, queued=True))
        await asyncio.sleep(QUEUED_SECONDS)
        record.status = "in_progress"
        await self._emit([events.in_progress(record)])
        await asyncio.sleep(HOLD_SECONDS if record.plan.hold else WORK_SECONDS)
        if record.plan.status != "failed":
            await self._emit(events.body_events(record))
        record.finish()
        await self._emit(events.closing(record))
        await self._close()

    def _halt(self) -> None:
        if self.record.status in ("queued", "in_progress"):
            self.record.status = "cancelled"
        self.task.cancel()

    async def cancel(self) -> None:
        """Stop the work; the response becomes `cancelled` unless it already finished."""
        self._halt()
        await asyncio.wait([self.task])
        await self._close()

    def stop(self) -> None:
        """`cancel()` without waiting for the work to end (the store evicting a running job); its followers
        still see the log end."""
        self._halt()
        self._stopping = asyncio.get_running_loop().create_task(self.cancel())

    async def follow(self, after: int) -> AsyncIterator[Event]:
        """The log's events with `sequence_number > after`, waiting for new ones until the job ends."""
        position = max(after + 1, 0)
        while True:
            async with self._changed:
                while position >= len(self.log) and not self.closed:
                    await self._changed.wait()
                batch, ended = self.log[position:], self.closed
            for event in batch:
                yield event
            position += len(batch)
            if ended and position >= len(self.log):
                return
