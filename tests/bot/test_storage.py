"""Storage on SQLite and PostgreSQL: migrations, staff, conversation state, audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.storage import Database, audit
from bot.storage import conversations as conversation_repo
from bot.storage import staff as staff_repo
from bot.storage.db import head_revision
from bot.storage.models import AuditEntry


async def test_migrations_reach_head_and_are_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.upgrade()
        await db.upgrade()
        assert await db.current_revision() == head_revision()
    finally:
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


async def test_unreachable_database_is_a_clear_error() -> None:
    from bot.errors import StorageError

    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(StorageError, match="could not migrate the database at"):
        await db.upgrade()
    await db.dispose()
