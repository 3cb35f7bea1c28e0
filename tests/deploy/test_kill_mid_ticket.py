"""``itbot serve`` killed with SIGKILL mid-ticket: a ticket raised in the web chat is being
created in the external desk (a fake Jira Service Management, which has made the issue but
not answered yet) when the process dies. After a restart nothing is lost or duplicated:
one ticket, created once in Jira, its outbox rows delivered once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.desk.tickets import OutboxMessage, Ticket
from bot.storage import Database
from tests.conftest import SAM, last_sign_in_code
from tests.deploy.replicas import Replica, serve_env, wait_until
from tests.servicedesk.fake_jira import (
    EMAIL,
    PROJECT,
    REQUEST_TYPE_ID,
    SERVICE_DESK_ID,
    TOKEN,
    JiraHarness,
)

pytestmark = pytest.mark.postgres

RAISE = (
    "I want to raise a ticket",
    "The printer by the lift prints blank pages",
    "laptop, phone or printer",
    "I can work around it for now",
    "yes",
)


@pytest.fixture
async def jira() -> AsyncIterator[JiraHarness]:
    harness = JiraHarness()
    await harness.server.up()
    yield harness
    await harness.close()


async def _say(session: aiohttp.ClientSession, url: str, text: str) -> str:
    async with session.post(f"{url}/api/chat", json={"text": text}) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
    return " ".join(str(reply.get("text", "")) for reply in body["replies"])


async def _sign_in(session: aiohttp.ClientSession, url: str, notify: Path) -> None:
    async with session.post(f"{url}/api/session", json={"email": SAM}) as response:
        assert response.status == 200, await response.text()
    code = last_sign_in_code(notify, SAM)
    async with session.post(f"{url}/api/session/verify", json={"code": code}) as response:
        assert response.status == 200, await response.text()


async def test_killed_while_the_ticket_goes_to_jira_then_restarted_nothing_lost_or_doubled(
    postgres_url: str, jira: JiraHarness, tmp_path: Path, embedding_cache: Path
) -> None:
    notify = tmp_path / "notify.jsonl"
    env = serve_env(
        postgres_url,
        embedding_cache,
        ITBOT_NOTIFY=f"file:{notify}",
        ITBOT_SERVICEDESK="jira",
        ITBOT_SERVICEDESK_URL=jira.server.url,
        ITBOT_SERVICEDESK_USER=EMAIL,
        ITBOT_SERVICEDESK_TOKEN=TOKEN,
        ITBOT_SERVICEDESK_OPTIONS=(
            f'{{"service_desk_id": "{SERVICE_DESK_ID}", "request_type_id": '
            f'"{REQUEST_TYPE_ID}", "project_key": "{PROJECT}"}}'
        ),
        ITBOT_SERVICEDESK_TIMEOUT="60",
    )
    first = Replica("first", env, tmp_path)
    second = Replica("second", env, tmp_path, port=first.port)  # the restart
    db = Database(postgres_url)
    try:
        first.start()
        await first.ready()
        jira.faults.slow(120, methods=("POST",))  # Jira makes the issue, then answers late
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            await _sign_in(session, first.url, notify)
            for line in RAISE:
                printed = await _say(session, first.url, line)
        found = re.search(r"\b([A-Z]+-\d+)\b", printed)
        assert "Done" in printed and found, printed
        ref = found.group(1)

        async def in_jira() -> bool:
            return await jira.count(ref) == 1

        await wait_until(in_jira, "the issue to be made in Jira", within=90)
        first.kill()  # Jira has the issue; the bot never heard back

        jira.faults.delay = 0
        second.start()
        await second.ready()

        async def delivered() -> bool:
            async with db.session() as s:
                unsent = await s.scalar(
                    select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
                )
            return unsent == 0

        await wait_until(delivered, "the outbox rows to be delivered after the restart", 90)
        async with db.session() as s:
            tickets = (await s.execute(select(Ticket.ref))).scalars().all()
            external = (
                (
                    await s.execute(
                        select(OutboxMessage).where(
                            OutboxMessage.destination == "external",
                            OutboxMessage.kind == "ticket_created",
                        )
                    )
                )
                .scalars()
                .all()
            )
            mirrored = (await s.execute(select(Ticket.external_id))).scalars().all()
    finally:
        second.stop()
        first.stop()
        await db.dispose()
    assert tickets == [ref]  # the ticket is there, once
    assert len(external) == 1 and external[0].sent_at is not None
    assert mirrored[0]  # linked to its Jira issue
    assert await jira.count(ref) == 1  # and Jira has it once, not twice
    assert "Traceback" not in second.log(), second.log()
