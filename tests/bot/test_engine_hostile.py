"""Any text a person may send reaches the engine and gets replies: no crash, no lost turn."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given

from bot.app import build_engine, open_services
from bot.conversation.messages import Incoming
from bot.settings import Settings
from tests.conftest import SAM
from tests.hostile import ANY_TEXT, FAST, in_thread, runner


async def test_a_lone_surrogate_is_cleaned_not_lost(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_services(settings) as services:
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
    async with open_services(settings) as services:
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
