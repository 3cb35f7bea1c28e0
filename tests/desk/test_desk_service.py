"""The desk's domain API on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.calendar import LONDON
from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.models import OutboxMessage
from bot.desk.service import Actor, Desk, QueueFilter
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import Staff

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def _people(session: AsyncSession) -> tuple[Staff, Staff]:
    sam = await staff_repo.get_or_create(
        session, email="sam.taylor@dacorum.gov.uk", council="dacorum"
    )
    pat = await staff_repo.get_or_create(
        session, email="pat.agent@aylesburyvaledc.gov.uk", council="aylesbury-vale"
    )
    pat.is_agent = True
    return sam, pat


async def test_a_ticket_from_raise_to_reopen(db: Database) -> None:
    desk = Desk()
    async with db.session() as s, s.begin():
        sam, pat = await _people(s)
        ticket = await desk.raise_ticket(
            s,
            requester=sam,
            summary="Printer on floor 2 jams",
            category="device",
            priority="P3",
            now=NOW,
            transcript=[{"user": "printer jams"}],
        )
        assert ticket.ref == "JSD-000001"
        assert ticket.council == "dacorum"
        assert ticket.response_due.astimezone(LONDON) == NOW + timedelta(hours=4)
        similar = await desk.similar_open(s, sam.id, "the printer jams again")
        assert [t.ref for t in similar] == ["JSD-000001"]
        assert await desk.similar_open(s, sam.id, "outlook password") == []

        with pytest.raises(NotAllowed):
            await desk.claim(s, ticket, sam, now=NOW)
        await desk.claim(s, ticket, pat, now=NOW)
        assert ticket.status == "open"
        assert ticket.assignee_id == pat.id

        await desk.comment(s, ticket, Actor.of(pat), "internal: checking", now=NOW, public=False)
        assert ticket.first_response_at is None  # an internal note is not a response
        await desk.comment(s, ticket, Actor.of(pat), "On my way", now=NOW + timedelta(minutes=5))
        assert ticket.first_response_at is not None

        await desk.set_status(s, ticket, pat, "resolved", now=NOW + timedelta(hours=1))
        assert ticket.resolved_at is not None
        await desk.rate(s, ticket, sam, 5, now=NOW + timedelta(hours=2), comment="Quick!")
        with pytest.raises(InvalidChange):
            await desk.rate(s, ticket, sam, 9, now=NOW)

        later = NOW + timedelta(days=3)
        assert desk.can_reopen(ticket, later)
        await desk.set_status(s, ticket, sam, "open", now=later)
        assert ticket.status == "open"
        kinds = [m.kind for m in (await s.execute(select(OutboxMessage))).scalars()]
        assert kinds.count("notify_requester") >= 3
        assert "ask_csat" in kinds and "triage_post" in kinds
        assert [e.kind for e in await desk.events(s, ticket)][:2] == ["created", "assigned"]


async def test_requesters_cannot_do_agent_things_or_reopen_late(db: Database) -> None:
    desk = Desk()
    async with db.session() as s, s.begin():
        sam, _pat = await _people(s)
        ticket = await desk.raise_ticket(
            s, requester=sam, summary="VPN drops", category="sign-in", priority="P2", now=NOW
        )
        with pytest.raises(NotAllowed):
            await desk.set_status(s, ticket, sam, "resolved", now=NOW)
        with pytest.raises(NotAllowed):
            await desk.set_priority(s, ticket, sam, "P1", now=NOW)
        await desk.set_status(s, ticket, sam, "closed", now=NOW)
        with pytest.raises(NotAllowed, match="working days"):
            await desk.set_status(s, ticket, sam, "open", now=NOW + timedelta(days=14))
        with pytest.raises(InvalidChange):
            await desk.raise_ticket(
                s, requester=sam, summary="  ", category="device", priority="P3", now=NOW
            )


async def test_the_queue_filters_and_sla(db: Database) -> None:
    desk = Desk()
    async with db.session() as s, s.begin():
        sam, _pat = await _people(s)
        alex = await staff_repo.get_or_create(
            s, email="alex.jones@aylesburyvaledc.gov.uk", council="aylesbury-vale"
        )
        await desk.raise_ticket(
            s, requester=sam, summary="A", category="email", priority="P1", now=NOW
        )
        await desk.raise_ticket(
            s, requester=alex, summary="B", category="email", priority="P4", now=NOW
        )
        tickets, total = await desk.queue(s, QueueFilter(council="dacorum"), now=NOW)
        assert total == 1 and tickets[0].summary == "A"
        _, total = await desk.queue(s, QueueFilter(), now=NOW)
        assert total == 2
        breached, _ = await desk.queue(s, QueueFilter(sla="breached"), now=NOW + timedelta(hours=1))
        assert [t.summary for t in breached] == ["A"]  # P1 response was due in 30 minutes
        at_risk, _ = await desk.queue(
            s, QueueFilter(sla="at_risk"), now=NOW + timedelta(minutes=25)
        )
        assert [t.summary for t in at_risk] == ["A"]
