"""Outages in the desk: a spike of similar reports is announced once; service notices are
per council, staff add themselves, and closing the parent ticket tells everyone linked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.desk import outages
from bot.desk.calendar import LONDON
from bot.desk.errors import InvalidChange
from bot.desk.outage_tables import ServiceNotice
from bot.desk.outbox import OutboxWorker
from bot.desk.service import Actor, Desk
from bot.desk.tickets import OutboxMessage, Ticket
from bot.storage import Database
from bot.storage import staff as staff_repo
from tests.desk.listening import listening_desk

# Tuesday 1 December 2026, 09:40 UK time: Outlook stops loading for people
START = datetime(2026, 12, 1, 9, 40, tzinfo=LONDON)
REPORTS = (
    ("sam.taylor@dacorum.gov.uk", "Outlook won't open"),
    ("chris.wood@dacorum.gov.uk", "outlook is down for me"),
    ("alex.jones@aylesburyvaledc.gov.uk", "Outlook keeps saying something went wrong"),
    ("jo.patel@dacorum.gov.uk", "Can't get into outlook on the web"),
    ("lee.brown@aylesburyvaledc.gov.uk", "Outlok not loading emails"),
    ("kim.green@dacorum.gov.uk", "outlook spinning forever"),
    ("ash.khan@dacorum.gov.uk", "Outlook blank page"),
)


def _council(email: str) -> str:
    return "dacorum" if email.endswith("@dacorum.gov.uk") else "aylesbury-vale"


async def _report(
    db: Database,
    desk: Desk,
    email: str,
    summary: str,
    at: datetime,
    category: str = "email",
    *,
    check: bool = True,
) -> str:
    """Someone raises a ticket; then (``check``) the outbox worker runs the outage check."""
    async with db.session() as s, s.begin():
        person = await staff_repo.get_or_create(s, email=email, council=_council(email))
        ticket = await desk.raise_ticket(
            s, requester=person, summary=summary, category=category, priority="P3", now=at
        )
        ref = str(ticket.ref)
    if check:
        worker = OutboxWorker(db)
        worker.register(outages.DESTINATION, outages.OutageWatch(desk).handlers())
        while await worker.run_once():
            pass
    return ref


async def _rows(db: Database, kind: str, destination: str | None = None) -> list[OutboxMessage]:
    async with db.session() as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        if destination is not None:
            query = query.where(OutboxMessage.destination == destination)
        return list((await s.execute(query.order_by(OutboxMessage.id))).scalars())


async def test_five_similar_reports_alert_once_and_four_do_not(db: Database) -> None:
    desk = listening_desk()
    for n, (email, summary) in enumerate(REPORTS[:4]):
        await _report(db, desk, email, summary, START + timedelta(minutes=2 * n))
    # a different problem in another category doesn't count towards it
    await _report(db, desk, "pat.day@dacorum.gov.uk", "Printer jammed", START, "device")
    assert await _rows(db, "outage_spike") == []  # four people: no alert
    await _report(db, desk, *REPORTS[4], START + timedelta(minutes=10))
    [alert] = await _rows(db, "outage_spike")
    assert alert.destination == "slack" and alert.payload["reports"] == 5
    spike_id = alert.payload["spike_id"]
    async with db.session() as s:
        spike = await desk.spikes.get(s, spike_id)
        assert spike is not None
        assert spike.products == ["Outlook"]
        assert sorted(spike.councils) == ["aylesbury-vale", "dacorum"]
        assert spike.first_at == START
        assert len(await desk.spikes.tickets(s, spike_id)) == 5
    # the sixth and seventh join the same spike: no second alert
    await _report(db, desk, *REPORTS[5], START + timedelta(minutes=12))
    await _report(db, desk, *REPORTS[6], START + timedelta(minutes=14))
    assert len(await _rows(db, "outage_spike")) == 1
    async with db.session() as s:
        assert len(await desk.spikes.tickets(s, spike_id)) == 7


async def test_one_person_reporting_five_times_or_slowly_is_no_spike(db: Database) -> None:
    desk = listening_desk()
    for n in range(5):  # one person, five tickets
        await _report(db, desk, REPORTS[0][0], "Outlook won't open", START + timedelta(minutes=n))
    for n, (email, summary) in enumerate(REPORTS[1:5]):  # then four others, an hour apart
        await _report(db, desk, email, summary, START + timedelta(hours=n + 1))
    assert await _rows(db, "outage_spike") == []


async def _agent(db: Database) -> Actor:
    async with db.session() as s, s.begin():
        pat = await staff_repo.get_or_create(s, email="pat.singh@dacorum.gov.uk", council="dacorum")
        pat.is_agent = True
        return Actor.of(pat)


async def test_a_notice_links_reports_and_closing_the_parent_tells_everyone(db: Database) -> None:
    desk = listening_desk()
    refs = [
        await _report(db, desk, email, summary, START + timedelta(minutes=n))
        for n, (email, summary) in enumerate(REPORTS[:5])
    ]
    [alert] = await _rows(db, "outage_spike")
    agent = await _agent(db)
    now = START + timedelta(minutes=20)
    async with db.session() as s, s.begin():
        notice = await desk.notices.publish(
            s, text="There's a known problem with Outlook since 09:40; we're on it.",
            products=["Outlook"], councils=["dacorum"], expires_at=now + timedelta(hours=4),
            by=agent.email, now=now, spike_id=alert.payload["spike_id"],
        )  # fmt: skip
        notice_id = notice.id
        assert notice.since == START
        with_parent = await desk.get(s, refs[0])
        assert with_parent is not None and notice.parent_ticket_id == with_parent.id
    async with db.session() as s, s.begin():
        # told to Dacorum staff asking about Outlook, not to Aylesbury Vale's, nor about Teams
        found = await desk.notices.matching(s, council="dacorum", text="is outlook down?", now=now)
        assert found is not None and found.id == notice_id
        other = await desk.notices.matching(
            s, council="aylesbury-vale", text="is outlook down?", now=now
        )
        assert other is None
        assert await desk.notices.matching(s, council="dacorum", text="Teams echo", now=now) is None
        # a Dacorum person adds themselves instead of raising a ticket
        drew = await staff_repo.get_or_create(
            s, email="drew.hill@dacorum.gov.uk", council="dacorum"
        )
        await desk.notices.join(s, notice_id, drew, channel="web", thread="t1", now=now)
        await desk.notices.join(s, notice_id, drew, channel="web", thread="t1", now=now)  # once
        avery = await staff_repo.get_or_create(
            s, email="avery.cole@aylesburyvaledc.gov.uk", council="aylesbury-vale"
        )
        try:
            await desk.notices.join(s, notice_id, avery, channel="web", thread="", now=now)
        except InvalidChange:
            pass
        else:
            raise AssertionError("an Aylesbury Vale person joined a Dacorum-only notice")
    # a Dacorum ticket arriving on it later is linked to the parent
    late = await _report(
        db, desk, "rowan.bell@dacorum.gov.uk", "outlook not working", now + timedelta(minutes=5)
    )
    async with db.session() as s:
        late_ticket = await desk.get(s, late)
        assert late_ticket is not None
        parent = await desk.notices.parent_of(s, late_ticket.id)
        assert parent is not None and parent.ref == refs[0]
        members = await desk.notices.members(s, notice_id)
        # the four other reports, the late ticket, and Drew (no ticket)
        assert len(members) == 6
        assert sum(1 for m in members if m.ticket_id is None) == 1
    # the agent closes the parent: the linked tickets close with it, Drew is told
    async with db.session() as s, s.begin():
        parent = await desk.get(s, refs[0])
        assert parent is not None
        await desk.set_status(s, parent, agent, "resolved", now=now + timedelta(hours=1))
    async with db.session() as s:
        tickets = (await s.execute(select(Ticket).order_by(Ticket.id))).scalars().all()
        linked = [t for t in tickets if t.ref in (*refs, late)]
        assert {t.status for t in linked} == {"resolved"}
        ended = await s.get(ServiceNotice, notice_id)
        assert ended is not None and ended.ended_at is not None
    told = await _rows(db, "notice_resolved", "requester")
    assert [r.payload["staff_id"] for r in told] == [drew.id]
    resolved = await _rows(db, "status_changed", "requester")
    assert len(resolved) == 6  # the parent and the five linked tickets, each to its requester


@pytest.fixture
async def pg_db(postgres_url: str) -> AsyncIterator[Database]:
    """PostgreSQL only: SQLite has one writer at a time, so no two transactions race."""
    database = Database(postgres_url)
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.mark.postgres
async def test_two_replicas_checking_at_once_record_one_spike(pg_db: Database) -> None:
    """The fifth and sixth reports are checked at once on two replicas (PostgreSQL): the
    second waits for the first's lock, then joins its spike; one alert."""
    db = pg_db
    first, second = listening_desk(), listening_desk()
    for n, (email, summary) in enumerate(REPORTS[:4]):
        await _report(db, first, email, summary, START + timedelta(minutes=n))
    at = START + timedelta(minutes=5)
    fifth = await _report(db, first, *REPORTS[4], at, check=False)
    sixth = await _report(db, first, *REPORTS[5], at + timedelta(seconds=1), check=False)

    async def check(desk: Desk, ref: str) -> None:
        async with db.session() as s, s.begin():
            ticket = await desk.get(s, ref)
            assert ticket is not None
            await desk.spikes.observe(s, ticket, now=ticket.created_at)

    async with db.session() as s1:
        await s1.begin()
        ticket = await first.get(s1, fifth)
        assert ticket is not None
        assert await first.spikes.observe(s1, ticket, now=ticket.created_at) is not None
        racing = asyncio.create_task(check(second, sixth))
        async with db.session() as watcher:  # the second replica waits for the lock
            while True:
                waiting = await watcher.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                )
                if waiting:
                    break
                await asyncio.sleep(0.05)
        await s1.commit()
    await racing
    [alert] = await _rows(db, "outage_spike")
    async with db.session() as s:
        assert len(await first.spikes.tickets(s, alert.payload["spike_id"])) == 6
