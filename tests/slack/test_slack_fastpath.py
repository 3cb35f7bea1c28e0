"""The ack fast path records exactly what bolt's listeners record, for every kind of event.

Each event is delivered twice with different ``event_id``s: signed over HTTP (the fast path
takes DMs and the Home tab; the rest falls through to bolt) and the way Socket Mode hands it
to bolt. The worker is off, so the inbox rows show what each path recorded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import select

from bot.channels.slack.channel import SlackChannel
from bot.conversation.messages import Incoming, Reply
from bot.render import build_environment
from bot.settings import Settings
from bot.storage import Database
from bot.storage.models import SlackInboxEntry
from tests.slack.fake_slack import (
    BOT_USER,
    SAM_ID,
    FakeSlack,
    SlackDriver,
    app_mention,
    fake_slack,
    home_opened,
    message_im,
    sign,
    slack_settings,
)

__all__ = ["fake_slack"]  # fixtures used below


class _NoEngine:
    async def handle(self, incoming: Incoming) -> list[Reply]:
        raise AssertionError("the worker is off in these tests")


class _Both:
    """One channel, reached over HTTP (fast path first) and the way Socket Mode reaches bolt."""

    def __init__(self, channel: SlackChannel, http: SlackDriver, db: Database) -> None:
        self.channel, self.http, self.db = channel, http, db

    async def over_http(self, body: dict[str, Any]) -> int:
        response = await self.http.send(body)
        return int(response.status)

    async def through_bolt(self, body: dict[str, Any]) -> int:
        request = AsyncBoltRequest(mode="socket_mode", body=body, headers={})
        response = await self.channel.bolt.async_dispatch(request)
        return int(response.status)

    async def recorded(self, event_id: str) -> dict[str, Any] | None:
        async with self.db.engine.connect() as conn:
            t = SlackInboxEntry
            query = select(t.kind, t.ordering_key, t.payload).where(
                t.dedupe_key == f"event:{event_id}"
            )
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else {"kind": row[0], "ordering": row[1], "payload": row[2]}


@pytest.fixture
async def both(settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[_Both]:
    config = slack_settings(settings, fake_slack)
    db = Database(config.database_url)
    await db.upgrade()
    channel = SlackChannel(config)
    app = web.Application()
    app.router.add_post("/slack/events", channel.handle_http)
    async with (
        channel.running(db=db, engine=_NoEngine(), templates=build_environment(), worker=False),
        TestClient(TestServer(app)) as client,
    ):
        yield _Both(channel, SlackDriver(client, fake_slack), db)
    await db.dispose()


def _twice(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    first = json.loads(json.dumps(body))
    second = json.loads(json.dumps(body))
    first["event_id"] += "h"
    second["event_id"] += "b"
    return first, second


EVENTS = {
    "a DM mentioning the bot, with a link": message_im(
        SAM_ID, f"<@{BOT_USER}> my <https://x.example/a|VPN> &amp; <#C1|general> drops"
    ),
    "a DM in a thread": message_im(SAM_ID, "still broken", thread_ts="1700000000.000100"),
    "an edited DM": message_im(SAM_ID, "edited", subtype="message_changed"),
    "a bot's DM": message_im(SAM_ID, "beep", bot_id="BOTHER"),
    "the bot's own DM": message_im(BOT_USER, "I said this"),
    "the Home tab": home_opened(SAM_ID),
    "the Messages tab": {
        **home_opened(SAM_ID),
        "event": {**home_opened(SAM_ID)["event"], "tab": "messages"},
    },
    "a mention in a channel": app_mention(SAM_ID, "my screen is blank", channel="CGENERAL"),
    "a channel message": message_im(SAM_ID, "chatter", channel="CGENERAL", channel_type="channel"),
}


@pytest.mark.parametrize("name", list(EVENTS))
async def test_http_records_what_the_bolt_listeners_record(both: _Both, name: str) -> None:
    over_http, through_bolt = _twice(EVENTS[name])
    assert await both.over_http(over_http) == 200
    assert await both.through_bolt(through_bolt) == 200
    assert await both.recorded(over_http["event_id"]) == await both.recorded(
        through_bolt["event_id"]
    )


async def test_a_dm_is_recorded_before_the_ack_and_a_retry_is_not(both: _Both) -> None:
    body = message_im(SAM_ID, "how do I share my calendar")
    assert await both.over_http(body) == 200
    recorded = await both.recorded(body["event_id"])
    assert recorded is not None and recorded["kind"] == "message"
    assert recorded["payload"]["text"] == "how do I share my calendar"
    retry = await both.http.send(body, headers={"X-Slack-Retry-Num": "1"})
    assert retry.status == 200
    async with both.db.engine.connect() as conn:
        rows = (await conn.execute(select(SlackInboxEntry.id))).all()
    assert len(rows) == 1


async def test_forged_or_malformed_dms_are_refused_before_anything_runs(both: _Both) -> None:
    body = json.dumps(message_im(SAM_ID, "hello"))
    cases = [
        sign(body, secret="not-the-secret"),
        {**sign(body), "X-Slack-Request-Timestamp": "not-a-number"},
        {"X-Slack-Signature": sign(body)["X-Slack-Signature"]},
    ]
    for headers in cases:
        response = await both.http.client.post(
            "/slack/events", data=body, headers={"Content-Type": "application/json", **headers}
        )
        assert response.status == 401
    async with both.db.engine.connect() as conn:
        assert not (await conn.execute(select(SlackInboxEntry.id))).all()
