"""The outbox worker: delivers what a change left to do, with retries, never dropping it.

Rows are desk events (``bot.desk.events``), one per event and subscribed destination,
written in the same transaction as the ticket change (see ``Desk``). The worker claims
due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several replicas
share the work without doing it twice), leases them, runs the handler registered for
the row's destination and event kind, and marks the row sent. A failure is retried
with capped exponential backoff and full jitter; a row never runs out of retries
(after ``alert_after`` attempts it is flagged for the dashboard, and keeps being retried).

Each destination has its own lane: at most ``per_destination`` of its rows are claimed
and delivered at once, so a slow external desk never holds up Slack or email. A
destination that fails ``pause_after`` times in a row is paused (backed off like a row)
while the others keep flowing. Rows of one ticket for one destination are never
delivered concurrently, and go in the order they were written: a row is not claimed
while an earlier one of the same ticket and destination is claimed (by any replica).
Claims are short leases (``lease``, 15 s) renewed every ``heartbeat`` seconds while a
row is being delivered, so the rows of a replica killed mid-delivery are picked up by
another within seconds.

>>> worker = OutboxWorker(db)                                   # doctest: +SKIP
>>> worker.register("requester", {"comment_added": notifier.deliver})  # doctest: +SKIP
>>> await worker.run_once()                                      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.desk.tickets import OutboxMessage, Ticket
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
        lease: timedelta = timedelta(seconds=15),
        heartbeat: float | None = None,
        per_destination: int = 4,
        pause_after: int = 3,
        base_delay: timedelta = timedelta(seconds=2),
        max_delay: timedelta = timedelta(minutes=15),
        alert_after: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.batch = batch
        self.lease = lease
        #: seconds between lease renewals of the rows being delivered (a third of the lease)
        self.heartbeat = heartbeat if heartbeat is not None else lease.total_seconds() / 3
        self.per_destination = max(1, per_destination)
        self.pause_after = max(1, pause_after)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.alert_after = alert_after
        self.rng = rng or random.Random()
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.wake = asyncio.Event()
        #: rows this process has claimed and not finished: id -> destination
        self.inflight: dict[int, str] = {}
        #: destinations that failed ``pause_after`` times in a row: until when they rest
        self.paused: dict[str, datetime] = {}
        self._failures: Counter[str] = Counter()

    def register(self, destination: str, handlers: Mapping[str, Handler]) -> None:
        """Deliver ``destination``'s rows: one handler per event kind it subscribed to."""
        for kind, handler in handlers.items():
            self.handlers[(destination, kind)] = handler

    def backoff(self, attempts: int) -> timedelta:
        """Full jitter: a random delay up to ``base * 2**attempts``, capped."""
        ceiling: timedelta = min(self.max_delay, self.base_delay * (2 ** min(attempts, 30)))
        jittered: timedelta = ceiling * self.rng.random()
        return jittered + timedelta(milliseconds=100)

    def _closed(self, now: datetime) -> set[str]:
        """Destinations not to claim for now: their lane is full, or they are paused."""
        busy = Counter(self.inflight.values())
        full = {dest for dest, count in busy.items() if count >= self.per_destination}
        for dest, until in list(self.paused.items()):
            if until <= now:
                del self.paused[dest]
        return full | set(self.paused)

    async def _claim(self, exclude: set[int]) -> list[OutboxMessage]:
        """Lease due rows, at most what each destination's lane has room for."""
        now = self.clock()
        closed = self._closed(now)
        earlier = aliased(OutboxMessage)
        claimed_before = (
            select(earlier.id)
            .where(
                earlier.ticket_id == OutboxMessage.ticket_id,
                earlier.destination == OutboxMessage.destination,
                earlier.id < OutboxMessage.id,
                earlier.sent_at.is_(None),
                earlier.locked_until >= now,
            )
            .exists()
        )
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.available_at <= now,
                (OutboxMessage.locked_until.is_(None)) | (OutboxMessage.locked_until < now),
                ~claimed_before,
            )
            .order_by(OutboxMessage.id)
            .limit(self.batch)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        if closed:
            query = query.where(OutboxMessage.destination.not_in(closed))
        if exclude:
            query = query.where(OutboxMessage.id.not_in(exclude))
        room = Counter(
            {
                dest: self.per_destination - count
                for dest, count in Counter(self.inflight.values()).items()
            }
        )
        taken: list[OutboxMessage] = []
        async with self.db.session() as session, session.begin():
            for row in (await session.execute(query)).scalars().all():
                if room.get(row.destination, self.per_destination) <= 0:
                    continue  # left unleased: its lane is full (or another replica's turn)
                # leased only if still free when written: SQLite has no SKIP LOCKED (its
                # SELECT takes no lock), so two workers may both have read the row free
                leased = await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == row.id,
                        OutboxMessage.sent_at.is_(None),
                        (OutboxMessage.locked_until.is_(None)) | (OutboxMessage.locked_until < now),
                    )
                    .values(locked_until=now + self.lease)
                    .execution_options(synchronize_session=False)
                )
                if not getattr(leased, "rowcount", 0):
                    continue  # another worker leased it in between
                room[row.destination] = room.get(row.destination, self.per_destination) - 1
                taken.append(row)
        # in flight only once the claim is committed: a failed commit leaves no lane full
        self.inflight.update((row.id, row.destination) for row in taken)
        return taken

    def _start(self, rows: list[OutboxMessage]) -> set[asyncio.Task[int]]:
        """One task per ticket and destination (its rows in order), or per row without a ticket."""
        lanes: dict[tuple[str, int], list[int]] = {}
        for row in rows:
            key = (row.destination, row.ticket_id if row.ticket_id is not None else -row.id)
            lanes.setdefault(key, []).append(row.id)
        return {asyncio.create_task(self._deliver_all(ids)) for ids in lanes.values()}

    async def _deliver_all(self, ids: list[int]) -> int:
        done = 0
        try:
            for row_id in ids:
                try:
                    done += await self._deliver(row_id)
                finally:
                    self.inflight.pop(row_id, None)
        finally:
            for row_id in ids:
                self.inflight.pop(row_id, None)
        return done

    async def run_once(self) -> int:
        """Deliver every due row once; returns how many were handled (sent or skipped).

        Destinations are worked concurrently, each up to ``per_destination`` rows at once.
        """
        seen: set[int] = set()
        tasks: set[asyncio.Task[int]] = set()
        done = 0
        beat = asyncio.create_task(self._heartbeats())
        try:
            while True:
                rows = await self._claim(seen)
                seen.update(row.id for row in rows)
                tasks |= self._start(rows)
                if not tasks:
                    return done
                finished, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                done += sum(task.result() for task in finished)
        finally:
            beat.cancel()
            await self._abandon(tasks)

    async def _deliver(self, row_id: int) -> int:
        destination = self.inflight.get(row_id, "")
        try:
            async with self.db.session() as session, session.begin():
                row = await session.get(OutboxMessage, row_id)
                if row is None or row.sent_at is not None:
                    return 0
                destination = row.destination
                handler = self.handlers.get((row.destination, row.kind))
                if handler is None:
                    raise Skip(f"no handler for {row.kind} to {row.destination or 'nobody'}")
                await handler(session, row)
                row.sent_at = self.clock()
                row.locked_until = None
            self._succeeded(destination)
            return 1
        except Skip as skip:
            await self._finish(row_id, note=f"skipped: {skip}")
            self._succeeded(destination)
            return 1
        except Exception as exc:
            await self._retry(row_id, exc)
            self._failed(destination)
            return 0

    def _succeeded(self, destination: str) -> None:
        self._failures.pop(destination, None)
        self.paused.pop(destination, None)

    def _failed(self, destination: str) -> None:
        self._failures[destination] += 1
        failures = self._failures[destination]
        if failures >= self.pause_after:
            rest = self.backoff(failures - self.pause_after + 1)
            self.paused[destination] = self.clock() + rest
            log.warning(
                "outbox destination %s failed %s times in a row; paused for %.1fs",
                destination or "nobody",
                failures,
                rest.total_seconds(),
            )

    async def _heartbeats(self) -> None:
        """Renew the leases of the rows being delivered until cancelled."""
        while True:
            await asyncio.sleep(self.heartbeat)
            ids = list(self.inflight)
            if not ids:
                continue
            try:
                async with self.db.session() as session, session.begin():
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
                        .values(locked_until=self.clock() + self.lease)
                    )
            except Exception:
                log.warning("outbox lease renewal failed; trying again shortly", exc_info=True)

    async def _abandon(self, tasks: set[asyncio.Task[int]]) -> None:
        """Cancel unfinished deliveries and give their rows back at once."""
        ids = list(self.inflight)  # before the cancelled deliveries forget their rows
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.inflight.clear()
        if ids:
            with contextlib.suppress(Exception):
                async with self.db.session() as session, session.begin():
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
                        .values(locked_until=None)
                    )

    @property
    def claimed(self) -> set[int]:
        """The rows this process has claimed and not finished."""
        return set(self.inflight)

    async def release(self) -> int:
        """Give back at once any row still claimed (on shutdown, after :meth:`run` has
        stopped), so another replica or the next start delivers it without waiting out
        the lease. Returns how many were given back (``run`` gives back its own already)."""
        ids = sorted(self.inflight)
        self.inflight.clear()
        released = 0
        if ids:
            async with self.db.session() as session, session.begin():
                result = await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
                    .values(locked_until=None)
                )
            released = int(getattr(result, "rowcount", 0) or 0)
        log.info("outbox: released %d claimed rows on shutdown", released)
        return released

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

    async def run(self, stop: asyncio.Event, *, interval: float = 1.0, grace: float = 10.0) -> None:
        """Deliver until ``stop`` is set; ``wake`` makes it look again at once. At stop,
        deliveries under way get ``grace`` seconds to finish; the rest are given back."""
        tasks: set[asyncio.Task[int]] = set()
        beat = asyncio.create_task(self._heartbeats())
        try:
            while not stop.is_set():
                try:
                    started = self._start(await self._claim(set()))
                except Exception:
                    log.exception("outbox worker pass failed; trying again shortly")
                    started = set()
                tasks |= started
                if started:
                    await asyncio.sleep(0)
                    continue
                self.wake.clear()
                waiters = {
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self.wake.wait()),
                }
                await asyncio.wait(
                    waiters | tasks, timeout=interval, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waiters:
                    waiter.cancel()
                tasks = self._reap(tasks)
            if tasks:
                await asyncio.wait(tasks, timeout=grace)
                tasks = self._reap(tasks)
        finally:
            beat.cancel()
            await self._abandon(tasks)

    @staticmethod
    def _reap(tasks: set[asyncio.Task[int]]) -> set[asyncio.Task[int]]:
        """The tasks still running; a finished one that raised is logged."""
        for task in [task for task in tasks if task.done()]:
            if not task.cancelled() and task.exception() is not None:
                log.error("outbox delivery failed", exc_info=task.exception())
        return {task for task in tasks if not task.done()}


async def waiting(
    session: AsyncSession, ticket_id: int | None, *, kind: str, destination: str
) -> bool:
    """Whether a row of ``kind`` for ``destination`` about the ticket (any ticket, with
    ``None``) is still undelivered."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.kind == kind,
        OutboxMessage.destination == destination,
        OutboxMessage.sent_at.is_(None),
    )
    if ticket_id is not None:
        query = query.where(OutboxMessage.ticket_id == ticket_id)
    return (await session.execute(query.limit(1))).first() is not None


async def waiting_for_requester(session: AsyncSession, staff_id: int, *, destination: str) -> bool:
    """Whether a row for ``destination`` about one of the person's tickets is undelivered."""
    query = (
        select(OutboxMessage.id)
        .join(Ticket, OutboxMessage.ticket_id == Ticket.id)
        .where(
            Ticket.requester_id == staff_id,
            OutboxMessage.destination == destination,
            OutboxMessage.sent_at.is_(None),
        )
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


async def backlog(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Undelivered rows per destination: (how many, how many flagged as failing). For
    ``/metrics``: one grouped count over the rows not yet sent."""
    query = (
        select(
            OutboxMessage.destination,
            func.count(OutboxMessage.id),
            func.count(OutboxMessage.failed_at),
        )
        .where(OutboxMessage.sent_at.is_(None))
        .group_by(OutboxMessage.destination)
    )
    rows = (await session.execute(query)).all()
    return {str(destination): (int(count), int(failing)) for destination, count, failing in rows}
