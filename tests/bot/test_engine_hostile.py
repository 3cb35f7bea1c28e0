"""Any text a person may send reaches the engine and gets replies: no crash, no lost turn."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given
from sqlalchemy import select

from bot.app import build_engine
from bot.conversation.messages import Incoming
from bot.desk.tickets import Ticket
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import Staff
from tests.conftest import SAM, shared_services
from tests.hostile import ANY_TEXT, EMAIL_LIKE, FAST, in_thread, runner


async def test_a_lone_surrogate_is_cleaned_not_lost(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with shared_services(settings) as services:
        engine = build_engine(services)
        replies = await engine.handle(
            Incoming(channel="web", email=SAM, text="\ud800 printer", proven=True, personal=True)
        )
        assert replies and all(r.text and r.kind != "error" for r in replies)
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failed, failed  # the engine's "turn failed" apology is a lost turn


async def test_any_message_text_gets_replies(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with shared_services(settings) as services:
        engine = build_engine(services)
        run = runner(asyncio.get_running_loop())

        @FAST
        @given(text=ANY_TEXT)
        def check(text: str) -> None:
            for thread in ("", "T1"):
                incoming = Incoming(
                    channel="web", email=SAM, text=text, thread=thread, proven=True, personal=True
                )
                replies = run(engine.handle(incoming))
                assert replies, text

        await in_thread(check)
    crashed = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not crashed, [r.getMessage() for r in crashed]


async def test_text_pasted_from_an_email_gets_replies_and_grants_nothing(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Headers, quoted replies, an agent's address, MIME parts and a pasted password: the
    turn is answered, and it is still Sam's turn (an address in the text proves nothing)."""
    async with shared_services(settings) as services:
        engine = build_engine(services)
        run = runner(asyncio.get_running_loop())

        @FAST
        @given(text=EMAIL_LIKE)
        def check(text: str) -> None:
            incoming = Incoming(channel="web", email=SAM, text=text, proven=True, personal=True)
            replies = run(engine.handle(incoming))
            assert replies, text
            for reply in replies:
                assert "Winter2026!" not in reply.text  # a pasted password is never echoed

        await in_thread(check)
        async with services.db.session() as session:
            requesters = (
                await session.execute(
                    select(Staff.email).join(Ticket, Ticket.requester_id == Staff.id)
                )
            ).scalars()
            assert set(requesters) <= {SAM}  # nobody else's name on a ticket
            sam = await staff_repo.get_by_email(session, SAM)
            assert sam is None or not sam.is_agent  # a pasted agent's address grants nothing
    crashed = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not crashed, [r.getMessage() for r in crashed]
