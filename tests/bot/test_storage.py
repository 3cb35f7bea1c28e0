"""Storage on SQLite and PostgreSQL: migrations, staff, conversation state, audit log."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import Database, audit
from bot.storage import conversations as conversation_repo
from bot.storage import staff as staff_repo
from bot.storage.db import head_revision
from bot.storage.models import AuditEntry


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """These tests run the migrations themselves: an empty database each."""
    return empty_database_url


async def test_migrations_reach_head_and_are_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.upgrade()
        await db.upgrade()
        assert await db.current_revision() == head_revision()
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    """Two ``itbot serve`` replicas on one empty PostgreSQL database: both start."""
    replicas = [Database(postgres_url) for _ in range(3)]
    try:
        async with asyncio.timeout(60):  # without a lock they deadlock or fail
            await asyncio.gather(*(db.upgrade() for db in replicas))
        assert {await db.current_revision() for db in replicas} == {head_revision()}
    finally:
        for db in replicas:
            await db.dispose()


async def test_state_and_turns_persist_across_engines(database_url: str) -> None:
    db = Database(database_url)
    await db.upgrade()
    async with db.session() as session, session.begin():
        staff = await staff_repo.get_or_create(
            session, email="Sam.Taylor@dacorum.gov.uk", council="dacorum"
        )
        conv = await conversation_repo.load_for_update(session, staff, "web", "")
        conversation_repo.save_state(conv, flow="clarify", step="confirm", data={"intent": "x"})
        await conversation_repo.add_turn(session, conv, user_text="hello", outcome="greeted")
    await db.dispose()

    db = Database(database_url)  # a "restart": a new engine on the same database
    try:
        async with db.session() as session, session.begin():
            staff = await staff_repo.get_or_create(
                session, email="sam.taylor@dacorum.gov.uk", council="dacorum"
            )
            assert staff.display_name == "Sam Taylor"
            conv = await conversation_repo.load_for_update(session, staff, "web", "")
            assert (conv.flow, conv.step, conv.data) == ("clarify", "confirm", {"intent": "x"})
            turns = await conversation_repo.transcript(session, conv.id)
            assert [t.user_text for t in turns] == ["hello"]
    finally:
        await db.dispose()


async def test_audit_log_is_append_only(database_url: str) -> None:
    db = Database(database_url)
    await db.upgrade()
    try:
        async with db.session() as session, session.begin():
            await audit.record(session, actor="agent@dacorum.gov.uk", action="claim", subject="x")
        with pytest.raises((DBAPIError, IntegrityError)):
            async with db.session() as session, session.begin():
                await session.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        with pytest.raises((DBAPIError, IntegrityError)):
            async with db.session() as session, session.begin():
                await session.execute(text("DELETE FROM audit_log"))
        async with db.session() as session:
            entries = (await session.execute(select(AuditEntry))).scalars().all()
            assert [e.actor for e in entries] == ["agent@dacorum.gov.uk"]
    finally:
        await db.dispose()


async def test_a_failed_statements_error_never_carries_its_parameters(database_url: str) -> None:
    """The error text of a failed statement is what the log lines report: the values it
    carried (a person's words, a ticket's text) stay out of it."""
    db = Database(database_url)
    await db.upgrade()
    words = "my password is Hunter2-Secret"
    try:
        async with db.session() as session, session.begin():
            await audit.record(session, actor="agent@dacorum.gov.uk", action="claim", subject="x")
        with pytest.raises((DBAPIError, IntegrityError)) as failed:
            async with db.session() as session, session.begin():
                await session.execute(text("UPDATE audit_log SET actor = :who"), {"who": words})
        assert "UPDATE audit_log" in str(failed.value)  # the statement is still named
        assert "Hunter2" not in str(failed.value)
    finally:
        await db.dispose()


async def test_unreachable_database_is_a_clear_error() -> None:
    from bot.errors import StorageError

    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(
        StorageError, match=re.escape("cannot reach the database none on 127.0.0.1:1: ")
    ):
        await db.upgrade()
    await db.dispose()


async def test_upgrade_to_0005_starts_sla_alerts_only_for_tickets_still_in_time(
    database_url: str,
) -> None:
    """Migration 0005 backfills ``sla_next_alert_at`` for open tickets raised before it.

    An open ticket still inside its resolution deadline starts at its first alert line;
    one already past it, and any resolved ticket, gets none (no flood of alerts on upgrade).
    """
    db = Database(database_url)
    try:
        await db.upgrade("0004")
        now = datetime.now(UTC)
        tables = MetaData()
        async with db.engine.begin() as conn:
            await conn.run_sync(tables.reflect)
            tickets = tables.tables["tickets"]
            await insert_staff(conn, tables, now)
            cases = {
                "in-time": ("open", now + timedelta(days=2), now + timedelta(hours=1)),
                "overdue": ("open", now - timedelta(hours=3), now - timedelta(days=1)),
                "pending": ("pending", now + timedelta(hours=5), now - timedelta(minutes=5)),
                "resolved": ("resolved", now + timedelta(days=2), now + timedelta(hours=1)),
            }
            for n, (ref, (status, resolution_due, risk_at)) in enumerate(cases.items(), 1):
                await conn.execute(
                    tickets.insert().values(
                        **old_ticket(n, ref, status, now, resolution_due, risk_at)
                    )
                )
        await db.upgrade("0005")  # (0007 then pauses pending tickets)
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT ref, sla_next_alert_at FROM tickets"))
            alert_at = {row.ref: row.sla_next_alert_at for row in rows}
        assert alert_at["overdue"] is None
        assert alert_at["resolved"] is None
        for ref in ("in-time", "pending"):
            value = alert_at[ref]
            assert value is not None, ref
            if isinstance(value, str):  # SQLite hands back the stored text
                value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            assert abs(value - cases[ref][2]) < timedelta(seconds=1), ref
    finally:
        await db.dispose()


async def test_upgrade_to_0006_keeps_every_existing_agent(database_url: str) -> None:
    """Agents flagged before ``staff.agent_via`` existed count as added by hand."""
    db = Database(database_url)
    try:
        await db.upgrade("0005")
        now = datetime.now(UTC)
        tables = MetaData()
        async with db.engine.begin() as conn:
            await conn.run_sync(tables.reflect)
            for n, (email, is_agent) in enumerate(
                [("pat.lee@dacorum.gov.uk", True), ("sam.taylor@dacorum.gov.uk", False)], 1
            ):
                await insert_staff(conn, tables, now, n=n, email=email, is_agent=is_agent)
        await db.upgrade()
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT email, agent_via FROM staff ORDER BY id"))
            assert [tuple(r) for r in rows] == [
                ("pat.lee@dacorum.gov.uk", "manual"),
                ("sam.taylor@dacorum.gov.uk", None),
            ]
    finally:
        await db.dispose()


def old_ticket(
    n: int, ref: str, status: str, now: datetime, resolution_due: datetime, risk_at: datetime
) -> dict[str, object]:
    """A tickets row as revision 0004 wrote it (requester: staff id 1)."""
    return {
        "id": n,
        "ref": ref,
        "requester_id": 1,
        "council": "dacorum",
        "category": "other",
        "priority": "P3",
        "status": status,
        "summary": f"ticket {ref}",
        "description": "",
        "impact": "",
        "source": "web",
        "transcript": [],
        "reply_channel": "web",
        "reply_thread": "t",
        "created_at": now - timedelta(days=1),
        "updated_at": now,
        "response_due": risk_at + timedelta(hours=1),
        "resolution_due": resolution_due,
        "response_risk_at": risk_at,
        "resolution_risk_at": resolution_due - timedelta(hours=1),
        "sla_alerts": {},
        "triage": {},
    }


async def insert_staff(
    conn: AsyncConnection,
    tables: MetaData,
    now: datetime,
    *,
    n: int = 1,
    email: str = "sam.turner@dacorum.gov.uk",
    is_agent: bool = False,
) -> None:
    """A staff row as the early revisions wrote it."""
    await conn.execute(
        tables.tables["staff"]
        .insert()
        .values(
            id=n,
            email=email,
            council="dacorum",
            display_name=email,
            is_agent=is_agent,
            is_privileged=False,
            created_at=now,
            updated_at=now,
        )
    )


async def test_upgrade_to_0007_pauses_the_clocks_of_pending_tickets(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.upgrade("0006")
        now = datetime.now(UTC)
        tables = MetaData()
        async with db.engine.begin() as conn:
            await conn.run_sync(tables.reflect)
            await insert_staff(conn, tables, now)
            for n, status in enumerate(("pending", "open"), 1):
                row = old_ticket(n, status, status, now, now + timedelta(days=2), now)
                await conn.execute(
                    tables.tables["tickets"].insert().values(**row, sla_next_alert_at=now)
                )
        await db.upgrade()
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT ref, sla_paused_at, sla_paused_seconds, sla_next_alert_at "
                    "FROM tickets ORDER BY id"
                )
            )
            (pending, paused, held, alert), (open_, not_paused, _, open_alert) = rows.all()
        assert (pending, open_) == ("pending", "open")
        assert paused is not None and held == 0 and alert is None
        assert not_paused is None and open_alert is not None
    finally:
        await db.dispose()


async def test_upgrade_to_0008_keeps_waiting_work_and_every_ticket_row(database_url: str) -> None:
    """Old outbox kinds become desk events for their listeners; the triage column moves to
    Slack's table; and nothing that points at a ticket is lost while ``tickets`` is
    rebuilt (SQLite copies the table: with foreign keys on, that would cascade)."""
    db = Database(database_url)
    try:
        await db.upgrade("0007")
        now = datetime.now(UTC)
        tables = MetaData()
        async with db.engine.begin() as conn:
            await conn.run_sync(tables.reflect)
            await insert_staff(conn, tables, now)
            row = old_ticket(1, "JSD-000001", "open", now, now + timedelta(days=2), now)
            row["triage"] = {"channel": "C0TRIAGE1", "ts": "1700000000.000100"}
            await conn.execute(tables.tables["tickets"].insert().values(**row))
            await conn.execute(
                tables.tables["ticket_comments"]
                .insert()
                .values(
                    ticket_id=1, author_name="Pat", author_role="agent", body="Try again",
                    public=True, via="desk", created_at=now,
                )
            )  # fmt: skip
            outbox = tables.tables["desk_outbox"]
            for kind, payload in (
                ("triage_post", {"ref": "JSD-000001"}),
                ("notify_requester", {"ref": "JSD-000001", "event": "comment", "comment": 1}),
                ("notify_requester", {"ref": "JSD-000001", "event": "status", "status": "open"}),
                ("external_status", {"ref": "JSD-000001", "status": "open"}),
            ):
                await conn.execute(
                    outbox.insert().values(
                        ticket_id=1, kind=kind, payload=payload, created_at=now,
                        available_at=now, attempts=0,
                    )
                )  # fmt: skip
        await db.upgrade()
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT kind, destination FROM desk_outbox ORDER BY id"))
            assert rows.all() == [
                ("ticket_created", "slack"),
                ("comment_added", "requester"),
                ("status_changed", "requester"),
                ("status_changed", "external"),
            ]
            threads = await conn.execute(
                text("SELECT ticket_id, channel, ts, kind FROM slack_ticket_threads")
            )
            assert threads.all() == [(1, "C0TRIAGE1", "1700000000.000100", "triage")]
            comments = await conn.execute(text("SELECT body FROM ticket_comments"))
            assert comments.scalars().all() == ["Try again"]
            columns = await conn.run_sync(
                lambda c: [col["name"] for col in inspect(c).get_columns("tickets")]
            )
            assert "triage" not in columns
    finally:
        await db.dispose()
