"""A mail the channel cannot act on is not tried on every pass for ever: each attempt is
recorded in the database (shared by replicas, kept over a restart), it waits longer after
each, and after the last it is set aside: flagged, left unread, the rest of the mail read.

The failure is real: a database trigger refuses tickets about a "meltdown", as a bug on
one odd mail or a database refusing writes would.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from bot.channels.email.process import MailProcessor
from bot.services import Services
from bot.storage import email_mail
from bot.web import keys
from tests.conftest import SAM
from tests.email.conftest import Outbox, eventually, running, settings_for
from tests.email.dovecot import Dovecot
from tests.email.test_email_channel import mail, seen, tickets

App = TestClient[web.Request, web.Application]

_SQLITE_TRIGGER = (
    "CREATE TRIGGER meltdown BEFORE INSERT ON tickets WHEN NEW.summary LIKE '%meltdown%' "
    "BEGIN SELECT RAISE(ABORT, 'no meltdowns today'); END"
)
_PG_FUNCTION = (
    "CREATE FUNCTION meltdown() RETURNS trigger AS $$ BEGIN "
    "IF lower(NEW.summary) LIKE '%meltdown%' THEN RAISE EXCEPTION 'no meltdowns today'; END IF; "
    "RETURN NEW; END $$ LANGUAGE plpgsql"
)
_PG_TRIGGER = (
    "CREATE TRIGGER meltdown BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION meltdown()"
)


async def break_tickets(services: Services) -> None:
    """From now on the database refuses a ticket whose summary says "meltdown"."""
    async with services.db.engine.begin() as connection:
        if services.db.is_sqlite:
            await connection.execute(text(_SQLITE_TRIGGER))
        else:
            await connection.execute(text(_PG_FUNCTION))
            await connection.execute(text(_PG_TRIGGER))


async def mend_tickets(services: Services) -> None:
    async with services.db.engine.begin() as connection:
        await connection.execute(
            text("DROP TRIGGER meltdown" + ("" if services.db.is_sqlite else " ON tickets"))
        )


async def outcome(services: Services, key: str) -> tuple[str, datetime]:
    async with services.db.session() as session:
        row = (
            await session.execute(
                select(email_mail.EmailMessage.outcome, email_mail.EmailMessage.created_at).where(
                    email_mail.EmailMessage.key == key
                )
            )
        ).one()
    return row[0], row[1]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_failing_mail_waits_longer_each_time_across_replicas_then_is_set_aside(
    email_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    services = email_app.app[keys.SERVICES]
    assert services.settings.email_retry_seconds == 60  # the defaults
    assert services.settings.email_retry_attempts == 5
    await break_tickets(services)
    clock = Clock()
    start = clock.now
    one, two = MailProcessor(services, clock), MailProcessor(services, clock)  # two replicas
    raw, key = mail(SAM, "Server meltdown", "The file server is melting down.")

    first = await one.handle(raw, "uid:1:1")
    assert (first.outcome, first.retry_at) == ("waiting", start + timedelta(seconds=60))
    assert await outcome(services, key) == ("failed:1", start + timedelta(seconds=60))
    clock.now = start + timedelta(seconds=59)  # not yet: no attempt, by either replica
    assert (await two.handle(raw, "uid:1:1")).outcome == "waiting"
    assert (await one.handle(raw, "uid:1:1")).outcome == "waiting"
    assert (await outcome(services, key))[0] == "failed:1"

    # due: the other replica tries, and it waits twice as long
    clock.now = start + timedelta(seconds=60)
    second = await two.handle(raw, "uid:1:1")
    assert second.retry_at == clock.now + timedelta(seconds=120)
    assert (await outcome(services, key))[0] == "failed:2"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.channels.email.process"):
        for attempt in (3, 4, 5):  # a restart changes nothing: a new processor, same state
            due = (await outcome(services, key))[1]
            clock.now = due
            result = await MailProcessor(services, clock).handle(raw, "uid:1:1")
            assert result.outcome == ("set-aside" if attempt == 5 else "waiting")
        assert (await outcome(services, key))[0] == "set-aside"
        clock.now += timedelta(days=30)
        await mend_tickets(services)  # set aside is set aside: kept for a person
        assert (await one.handle(raw, "uid:1:1")).outcome == "set-aside"
    set_aside = [r for r in caplog.records if "set aside" in r.getMessage()]
    assert len(set_aside) == 1 and set_aside[0].levelno == logging.ERROR
    assert "in 5 attempts" in set_aside[0].getMessage()
    assert await tickets(email_app) == []


async def test_a_failing_mail_that_works_later_is_acted_on_once(email_app: App) -> None:
    services = email_app.app[keys.SERVICES]
    await break_tickets(services)
    clock = Clock()
    processor = MailProcessor(services, clock)
    raw, key = mail(SAM, "Meltdown of the printer", "It smokes.")
    assert (await processor.handle(raw, "uid:1:7")).outcome == "waiting"
    await mend_tickets(services)
    clock.now += timedelta(seconds=60)
    done = await processor.handle(raw, "uid:1:7")
    assert done.outcome == "ticket" and done.ticket_ref
    assert (await outcome(services, key))[0] == "ticket"
    assert (await processor.handle(raw, "uid:1:7")).outcome == "seen"
    assert [t.ref for t in await tickets(email_app)] == [done.ticket_ref]


@pytest.fixture
async def quick_retry_app(
    database_url: str,
    embedding_cache: Path,
    notify_file: Path,
    dovecot: Dovecot,
    smtp: tuple[Outbox, int],
) -> AsyncIterator[App]:
    """The app, trying a failed mail again after 0.3 s (doubling), three attempts."""
    settings = settings_for(
        database_url,
        embedding_cache,
        notify_file,
        dovecot,
        smtp,
        ITBOT_EMAIL_RETRY_SECONDS="0.3",
        ITBOT_EMAIL_RETRY_ATTEMPTS="3",
    )
    async with running(settings) as client:
        yield client


async def test_the_reader_sets_a_failing_mail_aside_flagged_and_reads_the_rest(
    quick_retry_app: App,
    dovecot: Dovecot,
    smtp: tuple[Outbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, _ = smtp
    services = quick_retry_app.app[keys.SERVICES]
    await break_tickets(services)
    with caplog.at_level(logging.WARNING, logger="bot.channels.email.process"):
        bad, bad_id = mail(SAM, "Meltdown in room 4", "The server room is hot.")
        bad_uid = await asyncio.to_thread(dovecot.append, bad)
        good, _ = mail(SAM, "Printer jams", "The printer on floor 2 jams.")
        good_uid = await asyncio.to_thread(dovecot.append, good)
        await eventually(functools.partial(seen, dovecot, good_uid), "the next mail is read")
        [reply] = await eventually(lambda: outbox.to(SAM), "its reply")
        assert "Printer jams" in reply["Subject"]

        async def flagged() -> bool:
            return "\\Flagged" in await asyncio.to_thread(dovecot.flags, bad_uid)

        await eventually(flagged, "the failing mail is set aside")
    assert not await seen(dovecot, bad_uid)  # kept, unread, for a person
    assert (await outcome(services, bad_id))[0] == "set-aside"
    attempts = [r.getMessage() for r in caplog.records if bad_id in r.getMessage()]
    assert len(attempts) == 3  # two waits and the set-aside line: not one per pass
    assert "attempt 1 of 3" in attempts[0] and "attempt 2 of 3" in attempts[1]
    assert "set aside" in attempts[2]
    assert [t.summary for t in await tickets(quick_retry_app)] == ["Printer jams"]
