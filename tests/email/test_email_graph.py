"""The email channel with ``ITBOT_EMAIL_PROVIDER=graph``, against a local fake of Graph mail
over real HTTP: the same mail makes the same tickets and replies as over IMAP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.desk.actor import Actor
from bot.desk.tickets import Ticket
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys
from tests.conftest import SAM
from tests.email import fake_graph_mail as fake
from tests.email.conftest import AGENT, eventually, running
from tests.email.test_email_channel import mail, tickets
from tests.email.test_email_retries import break_tickets

DESK = "ictservicedesk@councils.example"
App = TestClient[web.Request, web.Application]


@pytest.fixture
async def graph() -> AsyncIterator[tuple[fake.FakeGraphMail, str]]:
    server = fake.FakeGraphMail(DESK)
    async with TestServer(server.app()) as running:
        yield server, str(running.make_url("/"))


@pytest.fixture
async def graph_app(
    database_url: str,
    embedding_cache: Path,
    notify_file: Path,
    graph: tuple[fake.FakeGraphMail, str],
) -> AsyncIterator[App]:
    _, url = graph
    settings = Settings.from_environ(
        {
            "ITBOT_DATABASE_URL": database_url,
            "ITBOT_CACHE_DIR": str(embedding_cache),
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
            "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
            "ITBOT_NOTIFY": f"file:{notify_file}",
            "ITBOT_DESK_AGENTS": AGENT,
            "ITBOT_EMAIL_ADDRESS": DESK,
            "ITBOT_EMAIL_PROVIDER": "graph",
            "ITBOT_EMAIL_GRAPH_TENANT": fake.TENANT,
            "ITBOT_EMAIL_GRAPH_CLIENT_ID": fake.CLIENT_ID,
            "ITBOT_EMAIL_GRAPH_CLIENT_SECRET": fake.CLIENT_SECRET,
            "ITBOT_EMAIL_GRAPH_URL": f"{url}v1.0/",
            "ITBOT_EMAIL_GRAPH_LOGIN_URL": url,
            "ITBOT_EMAIL_POLL_SECONDS": "1",
            "ITBOT_EMAIL_RETRY_SECONDS": "0.2",
            "ITBOT_EMAIL_RETRY_ATTEMPTS": "2",
        }
    )
    async with running(settings) as client:
        yield client


async def test_graph_mail_raises_a_ticket_replies_in_the_thread_and_relays_comments(
    graph_app: App, graph: tuple[fake.FakeGraphMail, str]
) -> None:
    server, _ = graph
    raw, sam_id = mail(
        f"Sam Taylor <{SAM}>",
        "How do I share my calendar?",
        "How do I share my calendar with a colleague?",
    )
    first = server.deliver(raw)
    away, _ = mail(SAM, "Automatic reply", "Away", headers={"Auto-Submitted": "auto-replied"})
    second = server.deliver(away)
    server.deliver(raw)  # the same mail twice
    [reply] = await eventually(lambda: server.sent, "a reply through sendMail")
    await eventually(lambda: all(m.is_read for m in server.messages.values()), "all read")
    [ticket] = await tickets(graph_app)
    assert reply["Subject"] == f"[{ticket.ref}] How do I share my calendar?"
    assert reply["In-Reply-To"] == sam_id
    assert reply["Auto-Submitted"] == "auto-replied"
    assert "Share your calendar with colleagues" in reply.get_content()
    assert server.messages[first].is_read and server.messages[second].is_read

    services = graph_app.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        [ticket] = list(await session.scalars(select(Ticket)))
        agent = await staff_repo.get_by_email(session, AGENT)
        assert agent is not None
        await services.desk.comment(
            session, ticket, Actor.of(agent), "Try the web app, please.", now=utcnow()
        )
    news = await eventually(lambda: server.sent[1:], "the agent's comment through Graph")
    assert news[0]["In-Reply-To"] == reply["Message-ID"]
    assert "Try the web app, please." in news[0].get_content()
    assert len(server.sent) == 2


async def test_graph_mail_that_keeps_failing_is_flagged_and_left_unread(
    graph_app: App, graph: tuple[fake.FakeGraphMail, str]
) -> None:
    server, _ = graph
    await break_tickets(graph_app.app[keys.SERVICES])
    bad = server.deliver(mail(SAM, "Meltdown in room 4", "The server room is hot.")[0])
    good = server.deliver(mail(SAM, "Printer jams", "The printer on floor 2 jams.")[0])
    await eventually(lambda: server.messages[bad].flagged, "the failing mail is set aside")
    await eventually(lambda: server.sent, "the other mail's reply")
    assert not server.messages[bad].is_read  # kept, unread, for a person
    assert server.messages[good].is_read and not server.messages[good].flagged
    assert [t.summary for t in await tickets(graph_app)] == ["Printer jams"]
