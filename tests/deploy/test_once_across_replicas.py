"""What must happen once across replicas, checked with two "replicas" (two engines, as two
``itbot serve`` processes have) acting at the same moment on one PostgreSQL database.

Here: SLA alerts (row locks, ``SKIP LOCKED``), the code limits (an advisory lock per
address) and the retention purge (one advisory lock). Outage spikes (an advisory lock per
category) have theirs in ``tests/desk/test_outages.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.access import signin
from bot.access.senders import open_sender
from bot.access.tables import OneTimeCode
from bot.desk.accounts import DeskLoginAttempt
from bot.desk.calendar import LONDON
from bot.desk.tickets import OutboxMessage
from bot.desk.watch import sweep_once
from bot.privacy import retention
from bot.settings import Settings
from bot.storage import Database, locks
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from tests.conftest import SAM, sent_messages
from tests.desk.listening import listening_desk

pytestmark = pytest.mark.postgres


@pytest.fixture
async def two(postgres_url: str) -> AsyncIterator[tuple[Database, Database]]:
    first, second = Database(postgres_url), Database(postgres_url)
    await first.upgrade()
    yield first, second
    await first.dispose()
    await second.dispose()


async def test_sign_in_codes_asked_at_once_on_two_replicas_keep_to_the_limit(
    two: tuple[Database, Database], postgres_url: str, tmp_path: Path
) -> None:
    notify = tmp_path / "notify.jsonl"
    settings = Settings.from_environ(
        {"ITBOT_DATABASE_URL": postgres_url, "ITBOT_NOTIFY": f"file:{notify}"}
    )
    sender = open_sender(settings)
    now = utcnow()

    async def ask(db: Database) -> signin.Sent | signin.NotSent:
        async with db.session() as session, session.begin():
            return await signin.send(session, settings, sender, email=SAM, now=now)

    try:
        outcomes = await asyncio.gather(*(ask(two[n % 2]) for n in range(4 * settings.code_limit)))
    finally:
        await sender.aclose()
    sent = [o for o in outcomes if isinstance(o, signin.Sent)]
    assert len(sent) == settings.code_limit, outcomes
    assert all(o == signin.NotSent("limit") for o in outcomes if not isinstance(o, signin.Sent))
    async with two[0].session() as session:
        issued = await session.scalar(select(func.count(OneTimeCode.id)))
    assert issued == settings.code_limit
    assert len(sent_messages(notify)) == settings.code_limit


async def _old_attempts(db: Database, count: int) -> None:
    long_ago = utcnow() - timedelta(days=400)
    async with db.session() as session, session.begin():
        session.add_all(
            DeskLoginAttempt(email=f"someone{n}@dacorum.gov.uk", ip="10.0.0.1", created_at=long_ago)
            for n in range(count)
        )


async def test_two_replicas_purging_at_once_purge_each_row_once(
    two: tuple[Database, Database],
) -> None:
    await _old_attempts(two[0], 60)
    now = utcnow()
    both = await asyncio.gather(*(retention.purge_once(db, now=now, days=180) for db in two))
    assert sorted(counts["desk_login_attempts"] for counts in both) == [0, 60]


async def test_a_pass_that_finds_another_replica_purging_is_skipped(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    await _old_attempts(first, 5)
    now = utcnow()
    async with first.session() as other, other.begin():  # another replica, mid-purge
        assert await locks.try_hold(other, retention.LOCK)
        assert await retention.purge_unless_busy(second, now=now, days=180) is None
        waiting = asyncio.create_task(retention.purge_once(second, now=now, days=180))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the operator's purge waits for it instead
    counts = await waiting
    assert counts["desk_login_attempts"] == 5
    again = await retention.purge_unless_busy(second, now=now, days=180)
    assert again is not None and not any(again.values())


async def test_two_replicas_sweeping_at_once_alert_each_ticket_once(
    two: tuple[Database, Database],
) -> None:
    desk = listening_desk()
    raised = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)  # P3: at risk from 13:00
    async with two[0].session() as s, s.begin():
        sam = await staff_repo.get_or_create(s, email=SAM, council="dacorum")
        for n in range(40):
            await desk.raise_ticket(
                s, requester=sam, summary=f"Calendar {n} won't load", category="calendar",
                priority="P3", now=raised,
            )  # fmt: skip
    at = datetime(2026, 11, 25, 13, 1, tzinfo=LONDON)
    # each replica sweeps in small passes, as the watcher does after downtime
    sweeps = await asyncio.gather(
        *(sweep_once(db, desk, now=at, limit=5) for db in two for _ in range(8))
    )
    assert sum(sweeps) == 40
    async with two[0].session() as s:
        alerts = await s.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == "sla_alert", OutboxMessage.destination == "slack"
            )
        )
    assert alerts == 40
