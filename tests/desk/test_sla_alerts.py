"""SLA alerts: each falls due once, follows the ticket's changes, and costs an index range."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select

from bot.desk.calendar import LONDON
from bot.desk.service import Actor, Desk
from bot.desk.tickets import OutboxMessage, Ticket
from bot.desk.watch import sweep_once, watch_sla
from bot.storage import Database
from bot.storage import staff as staff_repo
from tests.desk.listening import listening_desk

# Wednesday 25 November 2026, 10:00 UK time: a P3 ticket's response is due at 14:00
# (at risk from 13:00), its resolution three working days later, Monday 30th 10:00.
RAISED = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)


async def _raise(db: Database, desk: Desk) -> str:
    async with db.session() as s, s.begin():
        sam = await staff_repo.get_or_create(
            s, email="sam.taylor@dacorum.gov.uk", council="dacorum"
        )
        ticket = await desk.raise_ticket(
            s, requester=sam, summary="Calendar won't load", category="calendar",
            priority="P3", now=RAISED,
        )  # fmt: skip
        return str(ticket.ref)


async def _state(db: Database, desk: Desk, ref: str) -> tuple[list[str], datetime | None, int]:
    async with db.session() as s:
        ticket = await desk.get(s, ref)
        assert ticket is not None
        rows = await s.execute(
            select(OutboxMessage).where(
                OutboxMessage.ticket_id == ticket.id,
                OutboxMessage.kind == "sla_alert",
                OutboxMessage.destination == "slack",
            )
        )
        return list(ticket.sla_alerts), ticket.sla_next_alert_at, len(rows.all())


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


async def test_alerts_fall_due_once_each_in_working_time(db: Database) -> None:
    desk = listening_desk()
    ref = await _raise(db, desk)
    assert await sweep_once(db, desk, now=_at(25, 12, 59)) == 0
    assert await sweep_once(db, desk, now=_at(25, 13, 1)) == 1
    alerts, next_at, rows = await _state(db, desk, ref)
    assert alerts == ["response_at_risk"] and rows == 1
    assert next_at == _at(25, 14)  # the response deadline is next
    assert await sweep_once(db, desk, now=_at(25, 13, 30)) == 0  # nothing new: nothing posted
    assert await sweep_once(db, desk, now=_at(25, 14, 1)) == 1
    alerts, _, rows = await _state(db, desk, ref)
    assert alerts == ["response_at_risk", "response_breached"] and rows == 2


async def test_an_answer_stops_the_response_alerts_and_closing_stops_all(db: Database) -> None:
    desk = listening_desk()
    ref = await _raise(db, desk)
    async with db.session() as s, s.begin():
        ticket = await desk.get(s, ref)
        assert ticket is not None
        pat = await staff_repo.get_or_create(
            s, email="pat.agent@aylesburyvaledc.gov.uk", council="aylesbury-vale"
        )
        pat.is_agent = True
        await desk.comment(s, ticket, Actor.of(pat), "Looking now", now=_at(25, 10, 5))
    # answered in time: at 14:01 there is no response alert, only later the resolution's
    assert await sweep_once(db, desk, now=_at(25, 14, 1)) == 0
    alerts, next_at, _ = await _state(db, desk, ref)
    assert alerts == [] and next_at is not None and next_at.astimezone(LONDON).day == 27
    # a weekend passes without alerts: the clock only runs in working hours
    assert await sweep_once(db, desk, now=_at(28, 23)) == 1  # Friday 27th: at risk
    async with db.session() as s, s.begin():
        ticket = await desk.get(s, ref)
        assert ticket is not None
        await desk.set_status(s, ticket, Actor.of(pat), "resolved", now=_at(29, 9))
    alerts, next_at, _ = await _state(db, desk, ref)
    assert alerts == ["resolution_at_risk"] and next_at is None
    assert await sweep_once(db, desk, now=_at(30, 12)) == 0  # resolved: no breach alert


async def test_a_new_priority_starts_the_alerts_again(db: Database) -> None:
    desk = listening_desk()
    ref = await _raise(db, desk)
    assert await sweep_once(db, desk, now=_at(25, 13, 1)) == 1
    async with db.session() as s, s.begin():
        ticket = await desk.get(s, ref)
        assert ticket is not None
        pat = await staff_repo.get_or_create(
            s, email="pat.agent@aylesburyvaledc.gov.uk", council="aylesbury-vale"
        )
        pat.is_agent = True
        await desk.set_priority(s, ticket, Actor.of(pat), "P4", now=_at(25, 13, 2))
    alerts, next_at, _ = await _state(db, desk, ref)
    assert alerts == [] and next_at is not None and next_at > _at(25, 14)


async def test_the_sweep_reads_only_tickets_with_an_alert_due(db: Database) -> None:
    desk = listening_desk()
    for _ in range(30):
        await _raise(db, desk)
    async with db.session() as s, s.begin():
        for ticket in (await s.execute(select(Ticket))).scalars():
            ticket.sla_next_alert_at = None  # as if every alert were already sent
    assert await sweep_once(db, desk, now=_at(30, 12)) == 0


async def test_the_watch_works_through_a_backlog_in_small_passes(db: Database) -> None:
    desk = listening_desk()
    refs = [await _raise(db, desk) for _ in range(5)]
    stop = asyncio.Event()
    passes: list[int] = []
    watch = asyncio.create_task(
        watch_sla(
            db, desk, stop, every=60, clock=lambda: _at(25, 13, 1), limit=2,
            catch_up_pause=0.01, on_alert=lambda: passes.append(1),
        )
    )  # fmt: skip
    for _ in range(200):
        if len(passes) >= 3:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await watch
    assert len(passes) == 3  # 2 + 2 + 1 tickets, without waiting a minute between passes
    for ref in refs:
        alerts, _, rows = await _state(db, desk, ref)
        assert alerts == ["response_at_risk"] and rows == 1
