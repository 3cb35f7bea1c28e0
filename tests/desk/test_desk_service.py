"""The desk's domain API on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.calendar import LONDON
from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.queue import QueueFilter
from bot.desk.service import Actor, Desk
from bot.desk.tickets import OutboxMessage, Ticket, TicketEvent
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import Staff
from tests.desk.listening import listening_desk

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)


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
    desk = listening_desk()
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
            await desk.claim(s, ticket, Actor.of(sam), now=NOW)
        await desk.claim(s, ticket, Actor.of(pat), now=NOW)
        assert ticket.status == "open"
        assert ticket.assignee_id == pat.id

        await desk.comment(s, ticket, Actor.of(pat), "internal: checking", now=NOW, public=False)
        assert ticket.first_response_at is None  # an internal note is not a response
        await desk.comment(s, ticket, Actor.of(pat), "On my way", now=NOW + timedelta(minutes=5))
        assert ticket.first_response_at is not None

        await desk.set_status(s, ticket, Actor.of(pat), "resolved", now=NOW + timedelta(hours=1))
        assert ticket.resolved_at is not None
        await desk.rate(s, ticket, Actor.of(sam), 5, now=NOW + timedelta(hours=2), comment="Quick!")
        with pytest.raises(InvalidChange):
            await desk.rate(s, ticket, Actor.of(sam), 9, now=NOW)

        later = NOW + timedelta(days=3)
        assert desk.can_reopen(ticket, later)
        await desk.set_status(s, ticket, Actor.of(sam), "open", now=later)
        assert ticket.status == "open"
        rows = (await s.execute(select(OutboxMessage))).scalars()
        kinds = [(m.kind, m.destination) for m in rows]
        assert [d for _, d in kinds].count("requester") >= 3
        assert ("csat_requested", "requester") in kinds and ("ticket_created", "slack") in kinds
        assert [e.kind for e in await desk.events(s, ticket)][:2] == ["created", "assigned"]


async def test_requesters_cannot_do_agent_things_or_reopen_late(db: Database) -> None:
    desk = Desk()
    async with db.session() as s, s.begin():
        sam, _pat = await _people(s)
        ticket = await desk.raise_ticket(
            s, requester=sam, summary="VPN drops", category="sign-in", priority="P2", now=NOW
        )
        with pytest.raises(NotAllowed):
            await desk.set_status(s, ticket, Actor.of(sam), "resolved", now=NOW)
        with pytest.raises(NotAllowed):
            await desk.set_priority(s, ticket, Actor.of(sam), "P1", now=NOW)
        await desk.set_status(s, ticket, Actor.of(sam), "closed", now=NOW)
        with pytest.raises(NotAllowed, match="working days"):
            await desk.set_status(s, ticket, Actor.of(sam), "open", now=NOW + timedelta(days=14))
        with pytest.raises(InvalidChange):
            await desk.raise_ticket(
                s, requester=sam, summary="  ", category="device", priority="P3", now=NOW
            )


async def test_a_requester_saying_it_is_solved_resolves_it_as_an_agent_would(
    db: Database,
) -> None:
    desk = listening_desk()
    async with db.session() as s, s.begin():
        sam, pat = await _people(s)
        ticket = await desk.raise_ticket(
            s, requester=sam, summary="VPN drops", category="sign-in", priority="P2", now=NOW
        )
        with pytest.raises(NotAllowed):  # only the requester says it is solved
            await desk.confirm_solved(s, ticket, Actor.of(pat), now=NOW)
        await desk.confirm_solved(s, ticket, Actor.of(sam), now=NOW)
        assert ticket.status == "resolved" and ticket.resolved_at == NOW
        assert ticket.closed_at is None
        kinds = [m.kind for m in await s.scalars(select(OutboxMessage))]
        assert "csat_requested" in kinds  # the rating is asked for, as after a resolve
        await desk.confirm_solved(s, ticket, Actor.of(sam), now=NOW + timedelta(hours=1))
        assert ticket.resolved_at == NOW  # said twice: still resolved once
        # and the requester may reopen it within the window
        await desk.set_status(s, ticket, Actor.of(sam), "open", now=NOW + timedelta(days=1))
        assert ticket.status == "open"


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


async def test_raising_numbers_each_ticket_and_queues_its_work(db: Database) -> None:
    desk = listening_desk(external="jira", prefix="ICT")
    async with db.session() as s, s.begin():
        sam, _pat = await _people(s)
        raised = [
            await desk.raise_ticket(
                s,
                requester=sam,
                summary=f"Laptop {i} is slow",
                category="device",
                priority="P3",
                now=NOW,
            )
            for i in range(3)
        ]
        assert [t.ref for t in raised] == ["ICT-000001", "ICT-000002", "ICT-000003"]
        assert [t.ref for t in raised] == [desk.ref_for(t.id) for t in raised]
        first = raised[0]
        # every attribute readable without a lazy load (which an async session can't do)
        values = {attr.key: getattr(first, attr.key) for attr in inspect(Ticket).attrs}
        assert values["requester"] is sam and values["assignee"] is None
        assert values["status"] == "new" and values["first_response_at"] is None
        assert await desk.get(s, "ict-000002") is raised[1]
    async with db.session() as s:
        outbox = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        assert sorted((m.ticket_id, m.kind, m.destination, m.payload["ref"]) for m in outbox) == [
            (t.id, "ticket_created", to, t.ref)
            for t in raised
            for to in ("external", "outages", "slack")  # outages: the desk's own outage check
        ]
        events = (await s.execute(select(TicketEvent).order_by(TicketEvent.id))).scalars()
        assert [(e.ticket_id, e.kind, e.actor, e.details) for e in events] == [
            (t.id, "created", sam.email, {"priority": "P3", "category": "device"}) for t in raised
        ]


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url)
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.mark.postgres
async def test_references_keep_every_digit_past_a_million(pg: Database) -> None:
    desk = Desk()
    async with pg.session() as s, s.begin():
        await s.execute(text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), 999998)"))
        sam, _pat = await _people(s)
        refs = [
            (
                await desk.raise_ticket(
                    s, requester=sam, summary="Slow", category="device", priority="P4", now=NOW
                )
            ).ref
            for _ in range(3)
        ]
    assert refs == ["JSD-999999", "JSD-1000000", "JSD-1000001"]
    assert refs == [desk.ref_for(n) for n in (999_999, 1_000_000, 1_000_001)]


@pytest.mark.postgres
async def test_raising_costs_one_statement_per_ticket(pg: Database) -> None:
    """Id and reference are written by the ticket's INSERT (no UPDATE follows it), and the
    transaction's events and outbox rows go out in one statement each."""
    tables: list[tuple[str, str]] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found = re.search(r"\b(INSERT INTO|UPDATE) (\w+)", statement)
        if found:
            tables.append((found.group(1), found.group(2)))

    async with pg.session() as s, s.begin():
        sam, _pat = await _people(s)
        await s.flush()
        event.listen(pg.engine.sync_engine, "before_cursor_execute", seen)
        for i in range(20):
            await listening_desk().raise_ticket(
                s,
                requester=sam,
                summary=f"Printer {i}",
                category="device",
                priority="P3",
                now=NOW,
            )
    event.remove(pg.engine.sync_engine, "before_cursor_execute", seen)
    assert sorted(set(tables)) == [
        ("INSERT INTO", "desk_outbox"),
        ("INSERT INTO", "ticket_events"),
        ("INSERT INTO", "tickets"),
    ]
    assert [
        tables.count(("INSERT INTO", t)) for t in ("tickets", "ticket_events", "desk_outbox")
    ] == [20, 1, 1]


async def test_the_queue_pages_by_urgency_then_id_and_counts_up_to_a_cap(db: Database) -> None:
    desk = Desk()
    everything = QueueFilter()
    async with db.session() as s, s.begin():
        sam, _pat = await _people(s)
        for summary in [f"Monitor {i} flickers" for i in range(7)] + ["100% CPU", "Printer_2 off"]:
            await desk.raise_ticket(
                s, requester=sam, summary=summary, category="device", priority="P3", now=NOW
            )  # all due at once: ties go by id
        pages = [await desk.queue(s, everything, now=NOW, limit=4, offset=o) for o in (0, 4, 8)]
        refs = [t.ref for tickets, _ in pages for t in tickets]
        assert refs == [desk.ref_for(n) for n in range(1, 10)]
        assert [total for _, total in pages] == [9, 9, 9]

        statements: list[str] = []

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
        assert (await desk.queue(s, everything, now=NOW, limit=4, count_cap=5))[1] == 6  # "5+"
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
        # inlined, so that a generic plan knows them (a bound LIMIT makes it scan the table)
        assert [re.findall(r"LIMIT (\w+)", sql) for sql in statements] == [["4"], ["6"]]
        assert (await desk.queue(s, everything, now=NOW, limit=4, count_cap=50))[1] == 9
        # the last page knows the total without counting; past the end it is counted
        assert (await desk.queue(s, everything, now=NOW, limit=4, offset=8, count_cap=2))[1] == 9
        assert await desk.queue(s, everything, now=NOW, limit=4, offset=40) == ([], 9)

        async def summaries(text: str) -> list[str]:
            tickets, _ = await desk.queue(s, QueueFilter(text=text), now=NOW)
            return [t.summary for t in tickets]

        assert await summaries("100%") == ["100% CPU"]  # % and _ are taken literally
        assert await summaries("r_2") == ["Printer_2 off"]
        assert len(await summaries("  ")) == 9
        assert await summaries("ict-") == []
        assert await summaries("jsd-000008") == ["100% CPU"]


async def test_secrets_typed_into_tickets_are_redacted(db: Database) -> None:
    desk = Desk()
    async with db.session() as s, s.begin():
        sam, _agent = await _people(s)
        ticket = await desk.raise_ticket(
            s, requester=sam, summary="Locked out, my password is Hunter2!", category="sign-in",
            priority="P2", now=NOW, description="the code: 123456 didn't work",
        )  # fmt: skip
        await desk.comment(s, ticket, Actor.of(sam), "new password is Spring2026!", now=NOW)
        comments = await desk.comments(s, ticket)
    stored = " ".join([ticket.summary, ticket.description, *(c.body for c in comments)])
    assert "Hunter2" not in stored and "123456" not in stored and "Spring2026" not in stored
    assert "[redacted]" in ticket.summary


async def test_a_change_that_wrote_outbox_rows_wakes_the_worker_when_it_commits(
    db: Database,
) -> None:
    """The server's outbox worker is told at the commit, not at its next look: once per
    committed transaction that added rows; never for one rolled back or one that added none."""
    desk = listening_desk()
    woken: list[str] = []
    forget = desk.listeners.on_committed(lambda: woken.append("wake"))
    async with db.session() as s:
        async with s.begin():
            sam, _pat = await _people(s)
        assert woken == []  # no outbox row in that transaction
        async with s.begin():
            for i in range(2):
                await desk.raise_ticket(
                    s, requester=sam, summary=f"Dock {i} is dead", category="device",
                    priority="P3", now=NOW,
                )  # fmt: skip
            assert woken == []  # not before the rows are there for the worker to see
        assert woken == ["wake"]  # one wake for the transaction
        await s.begin()  # a change that fails before its commit
        await desk.raise_ticket(
            s, requester=sam, summary="Monitor flickers", category="device", priority="P3",
            now=NOW,
        )  # fmt: skip
        await s.rollback()
        async with s.begin():
            await _people(s)  # a later transaction without rows: nothing left over to wake
        assert woken == ["wake"]
        forget()  # the server's worker stopped: its wake is no longer called
        async with s.begin():
            await desk.raise_ticket(
                s, requester=sam, summary="Dock 3 is dead", category="device", priority="P3",
                now=NOW,
            )  # fmt: skip
        assert woken == ["wake"]
