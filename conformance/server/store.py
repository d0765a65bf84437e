"""The server's memory: stored responses (those with `store` not false) and running background jobs."""

from __future__ import annotations

import asyncio

from conformance.server.errors import ApiError, not_found
from conformance.server.jobs import Job
from conformance.server.record import Record

#: Stored responses kept at most; the oldest is forgotten first (a long-running `respkit serve` stays small).
MAX_RECORDS = 10_000


class Store:
    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        self._jobs: dict[str, Job] = {}

    def add(self, record: Record) -> None:
        if not record.stored:
            return
        self._records[record.id] = record
        while len(self._records) > MAX_RECORDS:
            oldest = next(iter(self._records))
            if oldest in self._jobs:
                break
            del self._records[oldest]

    def get(self, response_id: str) -> Record:
        record = self._records.get(response_id)
        if record is None:
            raise not_found(f"Response with id '{response_id}' not found.", param="response_id")
        return record

    def previous(self, response_id: str) -> Record:
        try:
            return self.get(response_id)
        except ApiError:
            raise ApiError(
                404,
                f"Previous response with id '{response_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            ) from None

    def start(self, record: Record) -> Job:
        job = Job(record)
        self._jobs[record.id] = job
        return job

    def job(self, response_id: str) -> Job | None:
        return self._jobs.get(response_id)

    async def delete(self, response_id: str) -> None:
        self.get(response_id)
        job = self._jobs.pop(response_id, None)
        if job:
            await job.cancel()
        del self._records[response_id]

    async def close(self) -> None:
        """Stop every background job (server shutdown)."""
        jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            job.task.cancel()
        if jobs:
            await asyncio.wait([j.task for j in jobs])
