"""The outbox worker: delivers what a change left to do, with retries, never dropping it.

Rows are desk events (``bot.desk.events``), one per event and subscribed destination,
written in the same transaction as the ticket change (see ``Desk``). The worker claims
due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several replicas
share the work without doing it twice), leases them, runs the handler registered for
the row's destination and event kind, and marks the row sent. A failure is retried
with capped exponential backoff and full jitter; a row never runs out of retries
(after ``alert_after`` attempts it is flagged for the dashboard, and keeps being retried).

>>> worker = OutboxWorker(db)                                   # doctest: +SKIP
>>> worker.register("requester", {"comment_added": notifier.deliver})  # doctest: +SKIP
>>> await worker.run_once()                                      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.tickets import OutboxMessage
from bot.storage import Database
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, OutboxMessage], Awaitable[None]]


class Skip(Exception):
    """Raised by a handler when there is nothing to deliver (e.g. Slack not configured)."""


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=2),
        base_delay: timedelta = timedelta(seconds=2),
        max_delay: timedelta = timedelta(minutes=15),
        alert_after: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.alert_after = alert_after
        self.rng = rng or random.Random()
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.wake = asyncio.Event()

    def register(self, destination: str, handlers: Mapping[str, Handler]) -> None:
        """Deliver ``destination``'s rows: one handler per event kind it subscribed to."""
        for kind, handler in handlers.items():
            self.handlers[(destination, kind)] = handler

    def backoff(self, attempts: int) -> timedelta:
        """Full jitter: a random delay up to ``base * 2**attempts``, capped."""
        ceiling: timedelta = min(self.max_delay, self.base_delay * (2 ** min(attempts, 30)))
        jittered: timedelta = ceiling * self.rng.random()
        return jittered + timedelta(milliseconds=100)

    async def _claim(self) -> list[int]:
        now = self.clock()
        async with self.db.session() as session, session.begin():
            query = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.available_at <= now,
                    (OutboxMessage.locked_until.is_(None)) | (OutboxMessage.locked_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(query)).scalars().all())
            for row in rows:
                row.locked_until = now + self.lease
            return [row.id for row in rows]

    async def run_once(self) -> int:
        """Deliver every due row once; returns how many were handled (sent or skipped)."""
        done = 0
        for row_id in await self._claim():
            done += await self._deliver(row_id)
        return done

    async def _deliver(self, row_id: int) -> int:
        try:
            async with self.db.session() as session, session.begin():
                row = await session.get(OutboxMessage, row_id)
                if row is None or row.sent_at is not None:
                    return 0
                handler = self.handlers.get((row.destination, row.kind))
                if handler is None:
                    raise Skip(f"no handler for {row.kind} to {row.destination or 'nobody'}")
                await handler(session, row)
                row.sent_at = self.clock()
                row.locked_until = None
            return 1
        except Skip as skip:
            await self._finish(row_id, note=f"skipped: {skip}")
            return 1
        except Exception as exc:
            await self._retry(row_id, exc)
            return 0

    async def _finish(self, row_id: int, *, note: str) -> None:
        async with self.db.session() as session, session.begin():
            row = await session.get(OutboxMessage, row_id)
            if row is not None:
                row.sent_at = self.clock()
                row.locked_until = None
                row.last_error = note[:500]

    async def _retry(self, row_id: int, exc: Exception) -> None:
        async with self.db.session() as session, session.begin():
            row = await session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            delay = self.backoff(row.attempts)
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(retry_after, int | float) and retry_after > 0:
                delay = max(delay, timedelta(seconds=float(retry_after)))
            row.available_at = self.clock() + delay
            row.locked_until = None
            if row.attempts >= self.alert_after and row.failed_at is None:
                row.failed_at = self.clock()
            log.warning(
                "outbox delivery failed id=%s kind=%s to=%s attempt=%s retry_in=%.1fs error=%s",
                row.id,
                row.kind,
                row.destination,
                row.attempts,
                delay.total_seconds(),
                type(exc).__name__,
            )

    async def run(self, stop: asyncio.Event, *, interval: float = 1.0) -> None:
        """Deliver until ``stop`` is set; ``wake`` makes it look again at once."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox worker pass failed; trying again shortly")
                handled = 0
            if handled:
                continue
            self.wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED), timeout=interval
                )
            for waiter in waiters:
                waiter.cancel()


async def waiting(session: AsyncSession, ticket_id: int, *, kind: str, destination: str) -> bool:
    """Whether a row of ``kind`` for ``destination`` about the ticket is still undelivered."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.ticket_id == ticket_id,
        OutboxMessage.kind == kind,
        OutboxMessage.destination == destination,
        OutboxMessage.sent_at.is_(None),
    )
    return (await session.execute(query.limit(1))).first() is not None


async def waiting_about(
    session: AsyncSession, *, kind: str, destination: str, key: str, value: object
) -> bool:
    """Whether a row of ``kind`` for ``destination`` whose payload has ``key == value`` is
    still undelivered (for events about no ticket, such as an approval's). Reads only the
    undelivered rows of that kind and destination: a handful at any time."""
    query = select(OutboxMessage.payload).where(
        OutboxMessage.kind == kind,
        OutboxMessage.destination == destination,
        OutboxMessage.sent_at.is_(None),
    )
    return any(
        (payload or {}).get(key) == value for payload in (await session.execute(query)).scalars()
    )
