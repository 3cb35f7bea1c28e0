"""Helpers for the dashboard's tests: agents, tickets (through the domain API) and sign-in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.desk import accounts
from bot.desk.passwords import hash_password
from bot.desk.service import Desk
from bot.desk.tickets import Ticket
from bot.settings import Settings
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import Staff
from bot.web import keys

Client = TestClient[web.Request, web.Application]

PAT = "pat.lee@dacorum.gov.uk"
ROBIN = "robin.shah@aylesburyvaledc.gov.uk"
PASSWORD = "correct horse battery staple"
SAM = "sam.taylor@dacorum.gov.uk"
ALEX = "alex.jones@aylesburyvaledc.gov.uk"

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def quick_settings(database_url: str, tmp_path: Path, **extra: str) -> Settings:
    """The test settings without sentence embeddings (the dashboard does not search)."""
    return Settings.from_environ(
        {
            "ITBOT_DATABASE_URL": database_url,
            "ITBOT_CACHE_DIR": str(tmp_path / "cache"),
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
            "ITBOT_SEMANTIC": "off",
            **extra,
        }
    )


def database(client: Client) -> Database:
    return client.app[keys.SERVICES].db


def desk(client: Client) -> Desk:
    return client.app[keys.SERVICES].desk


async def add_agent(db: Database, email: str = PAT, password: str | None = PASSWORD) -> Staff:
    council = "dacorum" if email.endswith("dacorum.gov.uk") else "aylesbury-vale"
    async with db.session() as session, session.begin():
        staff, _ = await accounts.add_agent(
            session,
            email=email,
            council=council,
            password_hash=hash_password(password) if password else None,
            now=datetime.now(UTC),
        )
    return staff


async def requester(db: Database, email: str = SAM) -> Staff:
    council = "dacorum" if email.endswith("dacorum.gov.uk") else "aylesbury-vale"
    async with db.session() as session, session.begin():
        return await staff_repo.get_or_create(session, email=email, council=council)


async def raise_ticket(
    client: Client,
    summary: str,
    *,
    email: str = SAM,
    priority: str = "P3",
    category: str = "email",
    opened: datetime | None = None,
    transcript: list[dict[str, Any]] | None = None,
) -> Ticket:
    """A ticket raised through the desk's domain API, as the chat flow does."""
    db = database(client)
    async with db.session() as session, session.begin():
        council = "dacorum" if email.endswith("dacorum.gov.uk") else "aylesbury-vale"
        person = await staff_repo.get_or_create(session, email=email, council=council)
        return await desk(client).raise_ticket(
            session,
            requester=person,
            summary=summary,
            category=category,
            priority=priority,
            now=opened or datetime.now(UTC),
            transcript=transcript or [],
        )


def at_risk_opening(client: Client, priority: str = "P4") -> datetime:
    """An opening time that leaves a ``priority`` ticket's resolution clock at risk now."""
    policy = desk(client).policy
    moment = datetime.now(UTC)
    opened = moment
    for _ in range(24 * 4 * 30):
        clocks = policy.clocks(priority, opened)
        if clocks.resolution_risk_at <= moment < clocks.resolution_due - timedelta(minutes=5):
            return opened
        opened -= timedelta(minutes=15)
    raise AssertionError("no opening time puts the ticket at risk")


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(client: Client, email: str = PAT, password: str = PASSWORD) -> str:
    """Sign in through the form; the CSRF token of the new session."""
    form = await client.get("/desk/login")
    token = csrf_in(await form.text())
    response = await client.post(
        "/desk/login",
        data={"email": email, "password": password, "csrf": token, "next": "/desk/"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    queue = await client.get("/desk/")
    assert queue.status == 200
    return csrf_in(await queue.text())
