"""The external desk (a fake Jira Service Management over HTTP) down for many minutes:
its outbox rows wait, backing off, and drain once it is back — each ticket created there
exactly once — while the Slack triage posts of the same tickets go out meanwhile.

Time is the worker's clock, moved by the test: minutes of outage without minutes of test.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import build_desk
from bot.channels.slack.client import web_client
from bot.channels.slack.triage import DESTINATION as SLACK
from bot.channels.slack.triage import Triage
from bot.desk.calendar import LONDON
from bot.desk.mirror import DESTINATION as EXTERNAL
from bot.desk.mirror import Mirror
from bot.desk.outbox import OutboxWorker
from bot.desk.service import Desk
from bot.desk.tickets import OutboxMessage
from bot.render import build_environment
from bot.settings import Settings
from bot.storage import Database
from bot.storage import staff as staff_repo
from tests.servicedesk.fake_jira import JiraHarness
from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack

TRIAGE = "C0TRIAGE1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def jira() -> AsyncIterator[JiraHarness]:
    harness = JiraHarness()
    await harness.server.up()
    yield harness
    await harness.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.close()


async def _raise(db: Database, desk: Desk, n: int, now: datetime) -> str:
    async with db.session() as s, s.begin():
        person = await staff_repo.get_or_create(
            s, email=f"person.{n}@dacorum.gov.uk", council="dacorum"
        )
        ticket = await desk.raise_ticket(
            s, requester=person, summary=f"Laptop {n} will not start", category="device",
            priority="P3", now=now,
        )  # fmt: skip
        assert ticket.ref is not None
        return ticket.ref


async def _unsent(db: Database, destination: str) -> list[OutboxMessage]:
    async with db.session() as s:
        query = select(OutboxMessage).where(
            OutboxMessage.destination == destination, OutboxMessage.sent_at.is_(None)
        )
        return list((await s.execute(query)).scalars())


async def test_the_desk_down_for_minutes_then_back_drains_its_rows_and_slack_never_waits(
    db: Database, jira: JiraHarness, fake: FakeSlack
) -> None:
    settings = Settings.from_environ(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ITBOT_SLACK_API_URL": fake.api_url,
            "ITBOT_SLACK_TRIAGE_CHANNEL": TRIAGE,
            "ITBOT_SERVICEDESK": "jira",
        }
    )
    desk = build_desk(settings)
    clock = Clock()
    worker = OutboxWorker(db, clock=clock, rng=random.Random(7))
    worker.register(EXTERNAL, Mirror(jira.connect(timeout=3), desk, db).handlers())
    triage = Triage(
        settings=settings, desk=desk, client=web_client(settings), env=build_environment()
    )
    worker.register(SLACK, triage.handlers())

    await jira.server.down()
    refs = [await _raise(db, desk, n, clock.now) for n in range(3)]
    await worker.run_once()
    assert not await _unsent(db, SLACK)  # triage posts went out at once
    assert len(await _unsent(db, EXTERNAL)) == len(refs)

    # twenty minutes of outage, a pass every 20 seconds; a ticket raised in the middle
    for step in range(60):
        clock.now += timedelta(seconds=20)
        if step == 30:
            refs.append(await _raise(db, desk, 3, clock.now))
        await worker.run_once()
        assert not await _unsent(db, SLACK), step  # Slack is never held up by the desk
        waiting = await _unsent(db, EXTERNAL)
        assert len(waiting) == len(refs), step  # nothing dropped, nothing given up on
    posts = fake.calls_to("chat.postMessage")
    assert sorted(p.params["channel"] for p in posts) == [TRIAGE] * len(refs)
    attempts = [row.attempts for row in await _unsent(db, EXTERNAL)]
    assert max(attempts) < 20, attempts  # backed off, not hammered every pass

    await jira.server.up()
    for _ in range(10):  # at most the longest backoff later, every row has gone
        clock.now += timedelta(minutes=2)
        await worker.run_once()
        if not await _unsent(db, EXTERNAL):
            break
    assert not await _unsent(db, EXTERNAL)
    for ref in refs:
        assert await jira.count(ref) == 1, ref  # created once each, none twice
