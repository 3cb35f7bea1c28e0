"""The outbox worker's lanes: a slow destination never holds up another, one ticket's rows
for a destination go one at a time and in order, a failing destination is paused, and the
rows of a worker killed with SIGKILL mid-delivery are picked up once its short lease ends."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.outbox import OutboxWorker
from bot.desk.service import Desk
from bot.desk.tickets import OutboxMessage
from bot.storage import Database
from bot.storage import staff as staff_repo

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
#: a guard against a hang, never a speed assertion
PATIENCE = 120.0


async def _tickets(db: Database, count: int) -> list[int]:
    """Raise ``count`` tickets and mark the rows their listeners left as sent, so only the
    rows a test writes itself are due."""
    ids = []
    async with db.session() as s, s.begin():
        person = await staff_repo.get_or_create(
            s, email="sam.taylor@dacorum.gov.uk", council="dacorum"
        )
        for number in range(count):
            ticket = await Desk().raise_ticket(
                s,
                requester=person,
                summary=f"Laptop {number} will not start",
                category="device",
                priority="P3",
                now=NOW,
            )
            ids.append(ticket.id)
        for row in (await s.execute(select(OutboxMessage))).scalars():
            row.sent_at = NOW
    return ids


async def _rows(db: Database, rows: list[tuple[int | None, str]]) -> list[int]:
    """Write due rows of (ticket id, destination), in that order; their ids."""
    async with db.session() as s, s.begin():
        made = [
            OutboxMessage(
                ticket_id=ticket,
                kind="ticket_created",
                destination=dest,
                payload={"n": n},
                available_at=NOW - timedelta(minutes=1),
            )
            for n, (ticket, dest) in enumerate(rows)
        ]
        s.add_all(made)
        await s.flush()
        return [row.id for row in made]


async def _sent(db: Database) -> dict[int, bool]:
    async with db.session() as s:
        found = await s.execute(select(OutboxMessage.id, OutboxMessage.sent_at))
        return {row_id: sent is not None for row_id, sent in found}


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    async def poll() -> None:
        for _ in itertools.count():
            if await check():
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout=PATIENCE)


async def test_a_slow_destination_never_holds_up_another(db: Database) -> None:
    tickets = await _tickets(db, 8)
    # the slow external desk's rows come first, as they would behind a burst of changes
    slow_ids = await _rows(db, [(ticket, "external") for ticket in tickets])
    fast_ids = await _rows(db, [(ticket, "slack") for ticket in tickets])
    release = asyncio.Event()
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()

    async def slow(session: AsyncSession, row: OutboxMessage) -> None:
        running["external"] += 1
        most["external"] = max(most["external"], running["external"])
        try:
            await release.wait()  # the external desk has not answered yet
        finally:
            running["external"] -= 1

    delivered: list[int] = []

    async def fast(session: AsyncSession, row: OutboxMessage) -> None:
        delivered.append(row.id)

    worker = OutboxWorker(db, per_destination=3)
    worker.register("external", {"ticket_created": slow})
    worker.register("slack", {"ticket_created": fast})
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, interval=0.1))
    try:

        async def slack_done() -> bool:
            sent = await _sent(db)
            return all(sent[i] for i in fast_ids)

        await _until(slack_done)
        sent = await _sent(db)
        assert not any(sent[i] for i in slow_ids), "the external desk has answered nothing yet"
        assert sorted(delivered) == fast_ids
        assert most["external"] == 3, "the slow destination is worked up to its cap, no more"
        release.set()

        async def all_done() -> bool:
            return all((await _sent(db)).values())

        await _until(all_done)
    finally:
        release.set()
        stop.set()
        await task
    assert most["external"] == 3


async def test_one_tickets_rows_go_one_at_a_time_in_order(db: Database) -> None:
    first, second = await _tickets(db, 2)
    await _rows(db, [(first, "slack"), (second, "slack")] * 3)
    seen: list[tuple[int | None, int]] = []
    busy: Counter[int | None] = Counter()
    overlapping = 0
    second_started = asyncio.Event()

    async def post(session: AsyncSession, row: OutboxMessage) -> None:
        nonlocal overlapping
        busy[row.ticket_id] += 1
        assert busy[row.ticket_id] == 1, "two rows of one ticket delivered at once"
        overlapping = max(overlapping, sum(busy.values()))
        if row.ticket_id == second:
            second_started.set()
        elif not second_started.is_set():
            # the first ticket's post waits for the other ticket's: only lanes that run
            # side by side get past this
            await asyncio.wait_for(second_started.wait(), timeout=PATIENCE)
        await asyncio.sleep(0.01)
        seen.append((row.ticket_id, row.payload["n"]))
        busy[row.ticket_id] -= 1

    worker = OutboxWorker(db, clock=lambda: NOW, per_destination=4)
    worker.register("slack", {"ticket_created": post})
    assert await worker.run_once() == 6
    assert overlapping == 2
    for ticket in (first, second):
        order = [n for t, n in seen if t == ticket]
        assert order == sorted(order) and len(order) == 3


async def test_a_failing_destination_is_paused_while_others_flow(db: Database) -> None:
    tickets = await _tickets(db, 6)
    await _rows(db, [(ticket, "external") for ticket in tickets])
    fine = await _rows(db, [(ticket, "requester") for ticket in tickets])
    tries: list[int] = []
    now = [NOW]

    async def down(session: AsyncSession, row: OutboxMessage) -> None:
        tries.append(row.id)
        raise ConnectionError("the external desk is down")

    async def email(session: AsyncSession, row: OutboxMessage) -> None:
        return None

    worker = OutboxWorker(db, clock=lambda: now[0], per_destination=1, pause_after=3)
    worker.register("external", {"ticket_created": down})
    worker.register("requester", {"ticket_created": email})
    await worker.run_once()
    assert len(tries) == 3, "three failures in a row pause the destination"
    assert "external" in worker.paused
    sent = await _sent(db)
    assert all(sent[i] for i in fine), "the requester's emails went out regardless"
    now[0] = NOW + timedelta(hours=1)  # past the pause and every row's backoff

    async def back(session: AsyncSession, row: OutboxMessage) -> None:
        tries.append(row.id)

    worker.register("external", {"ticket_created": back})
    assert await worker.run_once() == 6
    assert "external" not in worker.paused


async def test_rows_of_a_killed_worker_are_picked_up_after_the_short_lease(
    db: Database, database_url: str
) -> None:
    tickets = await _tickets(db, 2)
    ids = await _rows(db, [(ticket, "external") for ticket in tickets])
    victim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.desk.outbox_victim",
        database_url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert victim.stdout is not None
        started = {await victim.stdout.readline() for _ in ids}
        assert started == {f"delivering {i}\n".encode() for i in ids}

        async def lease() -> datetime | None:
            async with db.session() as s:
                query = select(OutboxMessage.locked_until).where(OutboxMessage.id == ids[0])
                return (await s.execute(query)).scalar_one()

        first = await lease()
        assert first is not None

        async def renewed() -> bool:
            current = await lease()
            return current is not None and current > first

        await _until(renewed)  # the heartbeat keeps the claim while delivery runs
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
    finally:
        if victim.returncode is None:
            victim.kill()
            await victim.wait()
    assert victim.returncode == -signal.SIGKILL
    async with db.session() as s:
        unsent = await s.execute(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)))
        assert sorted(unsent.scalars()) == ids, "the killed worker delivered nothing"

    delivered: list[int] = []

    async def deliver(session: AsyncSession, row: OutboxMessage) -> None:
        delivered.append(row.id)

    survivor = OutboxWorker(db)
    survivor.register("external", {"ticket_created": deliver})

    async def picked_up() -> bool:
        await survivor.run_once()
        return sorted(delivered) == ids

    await _until(picked_up)
    sent = await _sent(db)
    assert all(sent[i] for i in ids)


async def test_workers_claiming_at_once_deliver_each_row_once(db: Database) -> None:
    """Workers that look for rows at the same moment (two replicas, or the server's worker
    and another) never both take a row: on SQLite too, whose reads take no lock."""
    ids = await _rows(db, [(None, "external")] * 12)
    delivered: Counter[int] = Counter()

    async def deliver(session: AsyncSession, row: OutboxMessage) -> None:
        await asyncio.sleep(0.01)  # a real call: the other workers run meanwhile
        delivered[row.id] += 1

    workers = [OutboxWorker(db) for _ in range(3)]
    for worker in workers:
        worker.register("external", {"ticket_created": deliver})
    await asyncio.wait_for(asyncio.gather(*(w.run_once() for w in workers)), PATIENCE)
    assert delivered == Counter(dict.fromkeys(ids, 1))
    assert all((await _sent(db)).values())
