"""The database connection dropped under the bot (``pg_terminate_backend`` on each of its
connections, as a failover or an administrator does): the bot recovers by itself, with no
restart, and the turns after the drop are answered.

Never the machine's PostgreSQL service itself: only this test's scratch database's
connections are terminated.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from bot.channels.slack import jobs
from bot.channels.slack.inbox import Inbox
from bot.settings import Settings
from bot.storage import Database
from tests.conftest import SAM, last_sign_in_code
from tests.deploy.replicas import wait_until
from tests.slack.fake_slack import SAM_ID, Models, message_im

pytestmark = pytest.mark.postgres

QUESTIONS = (
    "how do I share my calendar",
    "how do I turn on my out of office reply in Outlook",
    "my printer is not printing",
)


@pytest.fixture
async def chat(
    postgres_url: str, embedding_cache: Path, tmp_path: Path
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    settings = Settings.from_environ(
        {
            "ITBOT_DATABASE_URL": postgres_url,
            "ITBOT_CACHE_DIR": str(embedding_cache),
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
            "ITBOT_SEMANTIC": "off",
            "ITBOT_NOTIFY": f"file:{tmp_path / 'notify.jsonl'}",
        }
    )
    async with (
        Models().app(settings, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        yield client


def _at_least(statuses: list[int], count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(statuses) >= count

    return check


async def _terminate(postgres_url: str) -> int:
    """Terminate every connection to the scratch database but this one; how many."""
    url = make_url(postgres_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return sum(1 for row in rows if row[0])


async def _sign_in(client: TestClient[web.Request, web.Application], tmp_path: Path) -> None:
    response = await client.post("/api/session", json={"email": SAM})
    assert response.status == 200, await response.text()
    code = last_sign_in_code(tmp_path / "notify.jsonl", SAM)
    response = await client.post("/api/session/verify", json={"code": code})
    assert response.status == 200, await response.text()


async def _turn(client: TestClient[web.Request, web.Application], text: str) -> tuple[int, Any]:
    response = await client.post("/api/chat", json={"text": text})
    body = await response.json() if response.content_type == "application/json" else None
    return response.status, body


async def test_turns_after_the_connections_are_terminated_are_answered(
    chat: TestClient[web.Request, web.Application], postgres_url: str, tmp_path: Path
) -> None:
    await _sign_in(chat, tmp_path)
    for round_ in range(3):
        # warm the pool: several connections in use at once, then back in the pool
        warm = await asyncio.gather(*(_turn(chat, q) for q in QUESTIONS))
        assert [status for status, _ in warm] == [200] * len(QUESTIONS), warm
        assert await _terminate(postgres_url) >= 1, "the bot held no connection to drop"
        # every turn after the drop is answered: dead connections are noticed at checkout
        for question in QUESTIONS:
            status, body = await _turn(chat, question)
            assert status == 200, (round_, question, body)
            assert body["replies"], body


async def test_a_drop_during_a_stream_of_turns_is_recovered_from(
    chat: TestClient[web.Request, web.Application], postgres_url: str, tmp_path: Path
) -> None:
    await _sign_in(chat, tmp_path)
    statuses: list[int] = []
    stop = asyncio.Event()

    async def stream(n: int) -> None:
        while not stop.is_set():
            status, _ = await _turn(chat, QUESTIONS[n % len(QUESTIONS)])
            statuses.append(status)

    streams = [asyncio.create_task(stream(n)) for n in range(4)]
    try:
        await wait_until(_at_least(statuses, 8), "the first turns")
        for _ in range(3):
            await _terminate(postgres_url)
            await wait_until(_at_least(statuses, len(statuses) + 4), "turns after a drop")
    finally:
        stop.set()
        await asyncio.gather(*streams)
    # a turn whose connection died under it may fail (500, "try again"); every later one works
    after = [await _turn(chat, q) for q in QUESTIONS]
    assert [status for status, _ in after] == [200] * len(QUESTIONS), after
    assert statuses.count(200) >= len(statuses) - 12, statuses


async def test_the_slack_inbox_records_on_after_its_connections_are_dropped(
    postgres_url: str,
) -> None:
    """The ack path keeps its own connections: a dropped one costs no request a 500."""
    db = Database(postgres_url)
    await db.upgrade()
    inbox = Inbox(db, worker_id="replica")
    await inbox.start()
    try:
        event = message_im(SAM_ID, "how do I share my calendar")["event"]
        job = jobs.from_message(event)
        assert job is not None
        assert await inbox.record("event:EvBefore", job)
        assert await _terminate(postgres_url) >= 1
        assert await inbox.record("event:EvAfter", job)
        assert not await inbox.record("event:EvAfter", job)  # still de-duplicated
        assert (await inbox.counts()) == {"pending": 2}
    finally:
        await inbox.stop()
        await db.dispose()
