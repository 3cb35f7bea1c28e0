"""A pending ticket waits for its requester: its SLA clocks stand still until it moves on."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.desk.calendar import LONDON
from bot.desk.queue import QueueFilter
from bot.desk.service import Actor, Desk
from bot.desk.tickets import TicketEvent
from bot.desk.watch import sweep_once
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import Staff
from bot.web.desk.clocks import clocks
from tests.desk.test_sla_alerts import _at

SAM = "sam.taylor@dacorum.gov.uk"
PAT = "pat.agent@aylesburyvaledc.gov.uk"


async def _people(s: object) -> tuple[Staff, Staff]:
    sam = await staff_repo.get_or_create(s, email=SAM, council="dacorum")  # type: ignore[arg-type]
    pat = await staff_repo.get_or_create(s, email=PAT, council="aylesbury-vale")  # type: ignore[arg-type]
    pat.is_agent = True
    return sam, pat


async def _raise(db: Database, desk: Desk, priority: str, at: datetime) -> str:
    async with db.session() as s, s.begin():
        sam, _ = await _people(s)
        ticket = await desk.raise_ticket(
            s, requester=sam, summary="Shared mailbox missing", category="email",
            priority=priority, now=at,
        )  # fmt: skip
        return str(ticket.ref)


async def test_waiting_for_the_requester_stops_the_clocks_and_moves_them_on(
    db: Database,
) -> None:
    desk = Desk()
    # Wednesday 25th 10:00, P3: resolution due Monday 30th 10:00
    ref = await _raise(db, desk, "P3", _at(25, 10))
    async with db.session() as s, s.begin():
        sam, pat = await _people(s)
        ticket = await desk.get(s, ref)
        assert ticket is not None and ticket.resolution_due == _at(30, 10)
        await desk.comment(s, ticket, Actor.of(pat), "Which mailbox is it?", now=_at(25, 11))
        await desk.set_status(s, ticket, Actor.of(pat), "pending", now=_at(25, 11))
        assert ticket.sla_next_alert_at is None

    # Monday 30th 10:30: past the old deadline, but the ticket is waiting for Sam
    late = _at(30, 10, 30)
    assert await sweep_once(db, desk, now=late) == 0
    async with db.session() as s:
        ticket = await desk.get(s, ref)
        assert ticket is not None
        response, resolution = clocks(ticket, late)
        assert (response.state, resolution.state) == ("met", "paused")
        for sla in ("breached", "at_risk"):
            found, _ = await desk.queue(s, QueueFilter(sla=sla), now=late, limit=10)
            assert ref not in [t.ref for t in found], sla

    # Sam answers on Tuesday 1st at 09:00: 32 working hours have passed since 11:00 on
    # Wednesday (6 + 8.5 + 8.5 + 8.5 + 0.5), so the deadline moves 32 working hours on
    async with db.session() as s, s.begin():
        sam, pat = await _people(s)
        ticket = await desk.get(s, ref)
        assert ticket is not None
        await desk.comment(
            s, ticket, Actor.of(sam), "The housing one", now=datetime(2026, 12, 1, 9, tzinfo=LONDON)
        )
        assert ticket.status == "open"
        assert ticket.resolution_due == datetime(2026, 12, 3, 16, 30, tzinfo=LONDON)
        assert ticket.sla_paused_at is None
        assert ticket.sla_paused_seconds == 32 * 3600
        assert ticket.sla_next_alert_at == ticket.resolution_risk_at
        events = await s.execute(
            select(TicketEvent.details).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "sla_resumed"
            )
        )
        assert [e["paused_minutes"] for e in events.scalars()] == [32 * 60]

        # a later priority change counts from the start, plus the time spent paused
        await desk.set_priority(
            s, ticket, Actor.of(pat), "P2", now=datetime(2026, 12, 1, 9, 5, tzinfo=LONDON)
        )
        assert ticket.resolution_due == desk.policy.calendar.add(
            desk.policy.clocks("P2", ticket.created_at).resolution_due, timedelta(hours=32)
        )


async def test_a_deadline_already_missed_stays_missed(db: Database) -> None:
    desk = Desk()
    # P1 at 10:00 Wednesday: resolution due 14:00; put on hold only at 15:00
    ref = await _raise(db, desk, "P1", _at(25, 10))
    async with db.session() as s, s.begin():
        _, pat = await _people(s)
        ticket = await desk.get(s, ref)
        assert ticket is not None
        await desk.set_status(s, ticket, Actor.of(pat), "pending", now=_at(25, 15))
        _, resolution = clocks(ticket, _at(26, 9))
        assert resolution.state == "breached"
        found, _ = await desk.queue(s, QueueFilter(sla="breached"), now=_at(26, 9), limit=10)
        assert ref in [t.ref for t in found]
        await desk.set_status(s, ticket, Actor.of(pat), "open", now=_at(26, 12))
        assert ticket.resolution_due == _at(25, 14)  # not moved: the breach stands
