"""The worker: takes recorded Slack requests from the inbox and processes them after the ack.

It runs in every ``itbot serve`` replica. The listener that recorded a request wakes the
worker of its own replica at once; every replica also polls, which is how rows recorded by
a replica that stopped (and rows whose lease ran out) are picked up after a restart. Claims
are short leases (:data:`LEASE`) renewed while the rows run, so the rows of a replica killed
mid-turn (SIGKILL, a lost machine) are taken over by another replica within seconds.
Rows of one conversation run one after another; different conversations run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aiohttp

from bot.channels.slack.inbox import Claimed, Inbox, RetrySoon

log = logging.getLogger(__name__)

Process = Callable[[Claimed], Awaitable[None]]

#: how long a claim lasts unless renewed: the worker renews its rows every third of it, so a
#: replica killed mid-turn leaves rows another picks up within seconds
LEASE = timedelta(seconds=10)


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says Slack's Web API could not be reached (not that it refused)."""
    return isinstance(exc, aiohttp.ClientConnectionError | TimeoutError | ConnectionError)


class Worker:
    """Claims rows from ``inbox`` and runs ``process`` on each, exactly once."""

    def __init__(
        self,
        inbox: Inbox,
        process: Process,
        *,
        concurrency: int = 8,
        poll_interval: float = 1.0,
        lease: timedelta = LEASE,
        prune_every: float = 600.0,
        time_limit: float = 120.0,
    ) -> None:
        self.inbox = inbox
        self.process = process
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease = lease
        self.prune_every = prune_every
        self.time_limit = time_limit
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something was recorded: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="slack-worker")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming, let running rows finish for ``grace`` seconds, give the rest back."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + 5.0
        next_extend = loop.time() + self.lease.total_seconds() / 3
        failures = 0
        while True:
            self._wake.clear()
            free = self.concurrency - len(self._in_flight)
            claimed: list[Claimed] = []
            if free > 0:
                try:
                    claimed = await self.inbox.claim(limit=free, lease=self.lease)
                    failures = 0
                except Exception:
                    failures += 1
                    if failures == 1:
                        log.exception("could not claim Slack work from the inbox; retrying")
                    await asyncio.sleep(min(self.poll_interval * 2**failures, 30.0))
                    continue
            if claimed:
                self._start(claimed)
            if loop.time() >= next_extend:
                next_extend = loop.time() + self.lease.total_seconds() / 3
                await self._extend()
            if loop.time() >= next_prune:
                next_prune = loop.time() + self.prune_every
                await self._prune()
            if claimed and len(claimed) == free:
                continue  # there may be more waiting
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows the cancel of
            # stop() when the wake-up lands at the same moment, and the loop never ends
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()

    def _start(self, rows: list[Claimed]) -> None:
        groups: dict[str, list[Claimed]] = {}
        for row in rows:
            groups.setdefault(row.job.ordering_key, []).append(row)
            self._in_flight.add(row.id)
        for group in groups.values():
            task = asyncio.create_task(self._run_group(group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_group(self, rows: list[Claimed]) -> None:
        remaining = list(rows)
        try:
            while remaining:
                row = remaining[0]
                try:
                    async with asyncio.timeout(self.time_limit):
                        await self.process(row)
                except Exception as exc:
                    if isinstance(exc, RetrySoon):
                        log.info("slack %s (row %d) waits: %s", row.kind, row.id, exc)
                    elif unreachable(exc):
                        log.warning(
                            "slack %s (row %d): Slack unreachable (%s); will retry",
                            row.kind,
                            row.id,
                            type(exc).__name__,
                        )
                    else:
                        log.exception("slack %s (row %d) failed; will retry", row.kind, row.id)
                    await self.inbox.retry_later(
                        row, error=type(exc).__name__, unreachable=unreachable(exc)
                    )
                    remaining.pop(0)
                    self._in_flight.discard(row.id)
                    break  # later rows of this conversation wait for this one
                else:
                    await self.inbox.complete(row)
                    remaining.pop(0)
                    self._in_flight.discard(row.id)
        finally:  # also when cancelled at shutdown: unfinished rows go back to the inbox
            await self._give_back(remaining)
            self._wake.set()

    async def _give_back(self, rows: list[Claimed]) -> None:
        if not rows:
            return
        ids = [row.id for row in rows]
        rows.clear()
        self._in_flight.difference_update(ids)
        try:
            await self.inbox.release(ids)
        except Exception:
            log.exception("could not give back Slack inbox rows %s; their lease will expire", ids)

    async def _extend(self) -> None:
        try:
            await self.inbox.extend(sorted(self._in_flight), self.lease)
        except Exception:
            log.exception("could not extend the lease of running Slack work")

    async def _prune(self) -> None:
        try:
            removed = await self.inbox.prune()
        except Exception:
            log.exception("could not prune the Slack inbox")
            return
        if removed:
            log.info("pruned %d finished Slack inbox rows", removed)
