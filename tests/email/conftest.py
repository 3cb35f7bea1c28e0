"""Fixtures for the email channel: a real Dovecot, a local SMTP server, the running app."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
from collections.abc import AsyncIterator, Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller

from bot.settings import Settings
from tests.conftest import free_port, need, shared_services
from tests.email import dovecot as dovecot_server

AGENT = "kim.agent@dacorum.gov.uk"
App = TestClient[web.Request, web.Application]


class Outbox:
    """An aiosmtpd handler keeping every mail the bot sends."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


@pytest.fixture
def dovecot() -> Iterator[dovecot_server.Dovecot]:
    reason = dovecot_server.missing()
    need(reason is None, reason or "")
    server = dovecot_server.start()
    yield server
    server.remove()


@pytest.fixture
def smtp_server() -> Iterator[Controller]:
    """A local SMTP server (aiosmtpd) keeping what it receives in an :class:`Outbox`."""
    controller = Controller(Outbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    if not controller.loop.is_closed():  # a test may have stopped it already
        controller.stop()


@pytest.fixture
def smtp(smtp_server: Controller) -> tuple[Outbox, int]:
    """What the SMTP server received, and its port."""
    outbox: Outbox = smtp_server.handler
    return outbox, smtp_server.port


@pytest.fixture
def email_settings(
    database_url: str,
    embedding_cache: Path,
    notify_file: Path,
    dovecot: dovecot_server.Dovecot,
    smtp: tuple[Outbox, int],
) -> Settings:
    return settings_for(database_url, embedding_cache, notify_file, dovecot, smtp)


def settings_for(
    database_url: str,
    embedding_cache: Path,
    notify_file: Path,
    dovecot: dovecot_server.Dovecot,
    smtp: tuple[Outbox, int],
    *,
    imap_tls: str = "off",
    **more: str,
) -> Settings:
    """The test settings with the email channel reading ``dovecot`` and sending to ``smtp``
    (``more``: other ``ITBOT_`` variables)."""
    port = dovecot.tls_port if imap_tls == "on" else dovecot.port
    return Settings.from_environ(
        {
            "ITBOT_DATABASE_URL": database_url,
            "ITBOT_CACHE_DIR": str(embedding_cache),
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
            "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
            "ITBOT_NOTIFY": f"file:{notify_file}",
            "ITBOT_DESK_AGENTS": AGENT,
            "ITBOT_EMAIL_ADDRESS": dovecot_server.USER,
            "ITBOT_EMAIL_IMAP_HOST": "127.0.0.1",
            "ITBOT_EMAIL_IMAP_PORT": str(port),
            "ITBOT_EMAIL_IMAP_TLS": imap_tls,
            "ITBOT_EMAIL_PASSWORD": dovecot_server.PASSWORD,
            "ITBOT_EMAIL_SMTP_HOST": "127.0.0.1",
            "ITBOT_EMAIL_SMTP_PORT": str(smtp[1]),
            "ITBOT_EMAIL_SMTP_TLS": "off",
            "ITBOT_EMAIL_POLL_SECONDS": "1",
            "ITBOT_EMAIL_SEND_RETRY_SECONDS": "0.5",
            **more,
        }
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[App]:
    """The real application with ``settings`` (its own database, the email channel
    running), on the knowledge base and detector the test process loaded once."""
    from bot.app import create_app

    async with shared_services(settings) as services:
        app = create_app(settings, services=services, watch_knowledge=False)
        async with TestClient(TestServer(app)) as client:
            yield client


@pytest.fixture
async def email_app(email_settings: Settings) -> AsyncIterator[App]:
    """The real application with the email channel running."""
    async with running(email_settings) as client:
        yield client


async def eventually(check: Callable[[], Any], what: str, limit: float = 60.0) -> Any:
    """``check()`` once it is truthy (a background task will make it so), polling."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.1)
