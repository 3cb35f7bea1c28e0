"""Behind a reverse proxy: the dashboard's per-address sign-in limit counts each client.

Every request reaches the bot from the proxy, so without ``ITBOT_TRUSTED_PROXIES`` the
whole council would share one address. ``X-Forwarded-For`` is believed only from a trusted
proxy; anyone else's is ignored, so it cannot be used to dodge the limit.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.desk.accounts import DeskLoginAttempt
from bot.settings import Settings
from bot.settings.signin import networks
from tests.desk.dashboard_support import Client, add_agent, csrf_in, database, quick_settings

LIMIT = 3


async def attempt(client: Client, email: str, forwarded_for: str) -> int:
    """One wrong password for ``email``, the request coming with ``X-Forwarded-For``."""
    headers = {"X-Forwarded-For": forwarded_for}
    form = await client.get("/desk/login", headers=headers)
    response = await client.post(
        "/desk/login",
        data={"email": email, "password": "Summer2026!", "csrf": csrf_in(await form.text())},
        headers=headers,
        allow_redirects=False,
    )
    return response.status


async def spray(client: Client, forwarded_for: str, first: int) -> list[int]:
    """``LIMIT`` + 1 different emails tried from one client."""
    return [
        await attempt(client, f"person{first + i}@dacorum.gov.uk", forwarded_for)
        for i in range(LIMIT + 1)
    ]


class TestBehindATrustedProxy:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        # the test client connects from 127.0.0.1: that is the proxy here
        return dataclasses.replace(
            quick_settings(database_url, tmp_path),
            trusted_proxies=networks("10.0.0.0/8, 127.0.0.1"),
            signin_address_limit=LIMIT,
        )

    async def test_two_clients_behind_it_are_limited_separately(self, client: Client) -> None:
        await add_agent(database(client))
        # the client's own claim (left), then a trusted hop: the client is 203.0.113.5
        assert await spray(client, "198.51.100.1, 203.0.113.5, 10.1.2.3", 0) == [401] * LIMIT + [
            429
        ]
        assert await attempt(client, "someone@dacorum.gov.uk", "203.0.113.6") == 401
        async with database(client).session() as session:
            ips = set((await session.execute(select(DeskLoginAttempt.ip))).scalars())
        assert ips == {"203.0.113.5", "203.0.113.6"}


class TestWithoutTrustedProxies:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        return dataclasses.replace(
            quick_settings(database_url, tmp_path), signin_address_limit=LIMIT
        )

    async def test_an_untrusted_peer_s_forwarded_for_is_ignored(self, client: Client) -> None:
        await add_agent(database(client))
        statuses = [
            await attempt(client, f"person{i}@dacorum.gov.uk", f"203.0.113.{i}")
            for i in range(LIMIT + 1)
        ]
        assert statuses == [401] * LIMIT + [429], "a new X-Forwarded-For each time dodges nothing"
        async with database(client).session() as session:
            ips = set((await session.execute(select(DeskLoginAttempt.ip))).scalars())
        assert ips == {"127.0.0.1"}
