"""The server's memory: stored responses (those with `store` not false) and running background jobs.

Held to a byte cap and a record count: past either, the oldest records are forgotten first, whatever
they are (a background job still running is cancelled), so eviction always makes room. A finished
job's event log is dropped at once (a retrieve replays the record), so what the store keeps is what
it counted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from respkit.conformance.server.conversation import unknown_item
from respkit.conformance.server.errors import ApiError, not_found
from respkit.conformance.server.jobs import Job
from respkit.conformance.server.record import Record

#: Stored responses kept at most; the oldest is forgotten first (a long-running `respkit serve` stays small).
MAX_RECORDS = 10_000
#: Bytes the stored responses may keep in all (`--max-store-bytes`), as `conformance.server.sizing` counts them.
DEFAULT_MAX_STORE_BYTES = 512 * 1024 * 1024
_FINAL = ("completed", "incomplete", "failed")


def too_big_to_store(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        f"This response would keep about {size} bytes in the store, which holds at most {limit} "
        "(`respkit serve --max-store-bytes`); send `store: false`, or raise the limit.",
        code="store_limit_exceeded",
    )


def _item_ids(record: Record) -> Iterator[str]:
    yield from (item["id"] for item in record.input_items)
    yield from (item_id for item_id, _ in record.ids)


class Store:
    def __init__(self, max_bytes: int = DEFAULT_MAX_STORE_BYTES, max_records: int = MAX_RECORDS) -> None:
        self.max_bytes = max_bytes
        self.max_records = max_records
        self.bytes = 0
        self._records: dict[str, Record] = {}
        self._sizes: dict[str, int] = {}
        self._jobs: dict[str, Job] = {}
        #: the response that holds each stored item (input or output), for `item_reference` input items
        self._owners: dict[str, str] = {}

    def add(self, record: Record, size: int) -> None:
        """Keep `record` (`size` bytes, from `sizing.record_bytes`), forgetting the oldest to make room;
        a 413 when it alone is over the cap."""
        if not record.stored:
            return
        if size > self.max_bytes:
            raise too_big_to_store(size, self.max_bytes)
        self._records[record.id] = record
        self._sizes[record.id] = size
        self._owners.update(dict.fromkeys(_item_ids(record), record.id))
        self.bytes += size
        while self.bytes > self.max_bytes or len(self._records) > self.max_records:
            job = self._forget(next(iter(self._records)))
            if job:
                job.stop()

    def _forget(self, response_id: str) -> Job | None:
        """Drop a record and its accounting; its job, if one runs, is the caller's to stop."""
        record = self._records.pop(response_id)
        self.bytes -= self._sizes.pop(response_id)
        for item_id in _item_ids(record):
            if self._owners.get(item_id) == response_id:
                del self._owners[item_id]
        return self._jobs.pop(response_id, None)

    def has(self, response_id: str) -> bool:
        return response_id in self._records

    def get(self, response_id: str) -> Record:
        record = self._records.get(response_id)
        if record is None:
            raise not_found(f"Response with id '{response_id}' not found.", param="response_id")
        return record

    def item(self, item_id: Any) -> dict[str, Any]:
        """The stored item with this id (an input or output item of a stored response); a 400 if none."""
        record = self._records.get(self._owners.get(item_id, "")) if isinstance(item_id, str) else None
        items = [*record.input_items, *record.output()] if record else []
        found = next((item for item in items if item["id"] == item_id), None)
        if found is None:
            raise unknown_item(item_id)
        return found

    def previous(self, response_id: str) -> Record:
        """The response a `previous_response_id` names; OpenAI's answer for an unknown one is a 400 with code
        `previous_response_not_found` (maximhq/bifrost#2441; no recording holds one)."""
        try:
            return self.get(response_id)
        except ApiError:
            raise ApiError(
                400,
                f"Previous response with id '{response_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            ) from None

    def start(self, record: Record) -> Job:
        job = Job(record)
        self._jobs[record.id] = job
        job.task.add_done_callback(lambda _: self._finished(job))
        return job

    def _finished(self, job: Job) -> None:
        """A job that reached a final status: its log (every delta event) goes; a retrieve replays the record.
        A cancelled job's short log stays, since a replay would not stop where the job did."""
        if job.record.status in _FINAL and self._jobs.get(job.record.id) is job:
            del self._jobs[job.record.id]

    def job(self, response_id: str) -> Job | None:
        return self._jobs.get(response_id)

    async def delete(self, response_id: str) -> None:
        self.get(response_id)
        job = self._forget(response_id)
        if job:
            await job.cancel()

    async def close(self) -> None:
        """Stop every background job (server shutdown)."""
        jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            job.task.cancel()
        if jobs:
            await asyncio.wait([j.task for j in jobs])
