"""The durable inbox: every Slack request is recorded here before it is acknowledged.

Recording is one ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING`` per batch
(:class:`bot.storage.slack_inbox.BatchInsert`): concurrent acks are grouped into one
transaction (group commit), so the ack path pays one commit per batch rather than per
request, and a retried delivery (same ``event_id``) finds its key taken and is dropped — on
every replica, because the database decides.

Workers claim ``pending`` rows (and rows whose lease ran out because their replica stopped)
so that each row is processed by exactly one worker; rows of one conversation are claimed
oldest first and never while an older one is unfinished. The statements are in
:mod:`bot.storage.slack_inbox`; this module decides when they run and in what batches.

>>> inbox = Inbox(db, worker_id="host:123")     # doctest: +SKIP
>>> await inbox.record("event:Ev1", job)         # doctest: +SKIP
True
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels.slack.jobs import Job
from bot.storage import slack_inbox
from bot.storage.models import utcnow
from bot.storage.slack_inbox import PENDING, BatchInsert

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
#: attempts while Slack (or the network to it) is unreachable: a minute apart, about half an
#: hour in all, as long as Slack itself keeps retrying a delivery
MAX_UNREACHABLE_ATTEMPTS = 35
MAX_BATCH = 200
#: how long finished rows keep their key: longer than Slack retries (the last after ~30 min)
KEEP_FINISHED = timedelta(days=1)


class RetrySoon(Exception):
    """Processing can't finish the row yet but will shortly: it is given back with the usual
    backoff (up to ``MAX_ATTEMPTS``) and logged without a traceback. An agent's reply in a
    ticket's thread that arrives while the ticket's message is still being recorded is one."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker now holds: the job, and what was already sent for it if anything."""

    id: int
    kind: str
    job: Job
    attempts: int
    outbox: dict[str, Any] | None


class Inbox:
    """Records Slack requests (group commit) and hands them to workers exactly once."""

    def __init__(self, db: Database, *, worker_id: str, parallel: int | None = None) -> None:
        self.db = db
        self.worker_id = worker_id[:64]
        self._queue: list[tuple[str, Job, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        # batches committing at once: PostgreSQL commits them in parallel, SQLite one by one
        self._slots = asyncio.Semaphore(parallel or (1 if db.is_sqlite else 2))
        self._batches: set[asyncio.Task[None]] = set()
        self._idle: list[AsyncConnection] = []
        self._batch_insert = BatchInsert(db.engine.dialect)

    # -- recording (the ack path) ---------------------------------------------------------

    async def start(self) -> None:
        self._closing = False
        self._flusher = asyncio.create_task(self._flush_forever(), name="slack-inbox-writer")

    async def stop(self) -> None:
        """Write whatever is queued, then stop the writer."""
        self._closing = True
        self._wake.set()
        if self._flusher is not None:
            await self._flusher
            self._flusher = None
        idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.close()

    async def record(self, key: str, job: Job) -> bool:
        """Durably record ``job`` under ``key``; ``False`` if that key was recorded before."""
        if self._flusher is None or self._closing:
            return key in await self._insert([(key, job)])
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((key, job, future))
        self._wake.set()
        return await future

    async def _flush_forever(self) -> None:
        """Group commit: whatever queued while the previous batch committed is the next batch."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._slots.acquire()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                task = asyncio.create_task(self._flush(batch))
                self._batches.add(task)
                task.add_done_callback(self._batch_done)
            if self._closing:
                if self._batches:
                    await asyncio.wait(set(self._batches))
                return

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._batches.discard(task)
        self._slots.release()

    async def _flush(self, batch: list[tuple[str, Job, asyncio.Future[bool]]]) -> None:
        try:
            fresh = await self._insert([(key, job) for key, job, _ in batch])
        except Exception as exc:  # the requests fail (500) and Slack delivers them again
            log.exception("could not record %d Slack requests", len(batch))
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for key, _, future in batch:
            new = key in fresh
            fresh.discard(key)  # a second copy within one batch is a duplicate too
            if not future.done():
                future.set_result(new)

    async def _insert(self, items: Sequence[tuple[str, Job]]) -> set[str]:
        """Insert new keys in one transaction; the keys that were not there before."""
        now = utcnow()
        rows: dict[str, tuple[Any, ...]] = {}
        for key, job in items:  # values in slack_inbox.COLUMNS order
            if key not in rows:
                payload = job.to_json()
                rows[key] = (key, job.kind, job.ordering_key, payload, PENDING, 0, now, now)
        if self._flusher is None:
            async with self.db.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                return await self._batch_insert(conn, list(rows.values()))
        # The writer keeps its connections (no pool checkout and reset per batch) in
        # autocommit: the one INSERT is its own transaction, durable when it returns, with
        # no BEGIN/COMMIT round trips. A kept connection the server dropped meanwhile (a
        # failover, pg_terminate_backend) fails once and the batch is sent again on a new
        # one, so the drop costs no request a 500.
        while True:
            reused = bool(self._idle)
            if reused:
                conn = self._idle.pop()
            else:
                conn = await self.db.engine.connect()
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                fresh = await self._batch_insert(conn, list(rows.values()))
            except Exception:
                with contextlib.suppress(Exception):
                    await conn.invalidate()  # the driver saw the error, not SQLAlchemy
                with contextlib.suppress(Exception):
                    await conn.close()
                if reused:
                    log.warning("a kept Slack inbox connection failed; recording on a new one")
                    continue
                raise
            self._idle.append(conn)
            return fresh

    # -- claiming and finishing (the worker) -----------------------------------------------

    async def claim(self, *, limit: int, lease: timedelta) -> list[Claimed]:
        """Up to ``limit`` rows for this worker, oldest first, in each conversation's order."""
        now = utcnow()
        async with self.db.engine.begin() as conn:
            claimed = await slack_inbox.claim(
                conn, worker_id=self.worker_id, limit=limit, now=now, lease_until=now + lease
            )
        return [
            Claimed(
                id=row.id,
                kind=row.kind,
                job=Job.from_json(row.payload),
                attempts=row.attempts,
                outbox=row.outbox,
            )
            for row in claimed
        ]

    async def save_outbox(self, row: Claimed, outbox: dict[str, Any]) -> None:
        async with self.db.engine.begin() as conn:
            await slack_inbox.save_outbox(conn, row.id, worker_id=self.worker_id, outbox=outbox)

    async def complete(self, row: Claimed) -> bool:
        """Mark done and forget the content (the key stays, to refuse later retries)."""
        async with self.db.engine.begin() as conn:
            done = await slack_inbox.complete(conn, row.id, worker_id=self.worker_id, now=utcnow())
        if not done:
            log.warning("slack inbox row %d was taken over before it finished", row.id)
        return done

    async def retry_later(self, row: Claimed, *, error: str, unreachable: bool = False) -> None:
        """Give the row back with a backoff, or mark it failed after ``MAX_ATTEMPTS``
        (``MAX_UNREACHABLE_ATTEMPTS`` when the failure was Slack being out of reach: the
        person gets their answer once it is back)."""
        now = utcnow()
        limit = MAX_UNREACHABLE_ATTEMPTS if unreachable else MAX_ATTEMPTS
        async with self.db.engine.begin() as conn:
            if row.attempts >= limit:
                log.error(
                    "slack inbox row %d failed %d times (%s); giving up",
                    row.id,
                    row.attempts,
                    error,
                )
                await slack_inbox.fail(conn, row.id, worker_id=self.worker_id, error=error, now=now)
                return
            delay = timedelta(seconds=min(2 ** (row.attempts - 1), 60))
            await slack_inbox.retry_at(
                conn, row.id, worker_id=self.worker_id, error=error, available_at=now + delay
            )

    async def release(self, ids: Sequence[int]) -> None:
        """Give rows back untouched (shutting down): the next worker takes them at once."""
        if ids:
            async with self.db.engine.begin() as conn:
                await slack_inbox.release(conn, ids, worker_id=self.worker_id)

    async def extend(self, ids: Sequence[int], lease: timedelta) -> None:
        if ids:
            async with self.db.engine.begin() as conn:
                await slack_inbox.extend(
                    conn, ids, worker_id=self.worker_id, lease_until=utcnow() + lease
                )

    async def prune(self, *, older_than: timedelta = KEEP_FINISHED) -> int:
        async with self.db.engine.begin() as conn:
            return await slack_inbox.prune(conn, finished_before=utcnow() - older_than)

    async def counts(self) -> dict[str, int]:
        async with self.db.engine.connect() as conn:
            return await slack_inbox.counts(conn)
