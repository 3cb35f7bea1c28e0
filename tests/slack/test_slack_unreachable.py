"""Slack's Web API unreachable: the ack path never depends on it.

A signed DM is recorded and acknowledged (200) while nothing answers at Slack's API
address; the person is looked up when the turn runs, retried until the API is back, and
then gets their answer.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp.test_utils import TestClient, TestServer

from bot.channels.slack.inbox import Inbox
from bot.settings import Settings
from tests.conftest import free_port
from tests.slack.fake_slack import (
    ALEX_ID,
    SAM_ID,
    FakeSlack,
    Models,
    SlackDriver,
    cached_models,
    message_im,
    slack_settings,
)

__all__ = ["cached_models"]  # a fixture used below


async def _inbox_rows(inbox: Inbox) -> int:
    return sum((await inbox.counts()).values())


async def test_a_dm_is_acked_and_recorded_while_slack_is_down_and_answered_after(
    settings: Settings, cached_models: Models
) -> None:
    port = free_port()  # nothing listens here until the fake comes up on it
    fake = FakeSlack()
    fake.url = f"http://127.0.0.1:{port}"
    config = slack_settings(settings, fake)
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        driver = SlackDriver(client, fake)
        first = await driver.send(message_im(SAM_ID, "how do I share my calendar"))
        second = await driver.send(message_im(ALEX_ID, "how do I turn on my out of office"))
        assert (first.status, second.status) == (200, 200)
        from bot.channels import slack as slack_channel

        inbox = app[slack_channel.SLACK].inbox
        assert inbox is not None
        assert await _inbox_rows(inbox) == 2

        # the worker has tried (and failed) to look Sam up at least once before Slack returns
        deadline = time.monotonic() + 30
        while not (await inbox.counts()).get("pending"):
            assert time.monotonic() < deadline, await inbox.counts()
            await asyncio.sleep(0.1)

        await fake.start(port)
        try:
            fake.add_user(SAM_ID, "sam.taylor@dacorum.gov.uk", "Sam Taylor")
            fake.add_user(ALEX_ID, "alex.jones@aylesburyvaledc.gov.uk", "Alex Jones")
            posts = await fake.wait_for("chat.postMessage", 2, within=60)
            await fake.settle(0.5)
        finally:
            await fake.close()
    assert sorted(p.params["channel"] for p in posts) == ["DALEXJONES", "DSAMTAYLOR"]
    assert len(fake.calls_to("chat.postMessage")) == 2
