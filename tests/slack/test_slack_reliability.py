"""Slack's platform rules: retries processed once, rate limits waited out, load, restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.channels.slack import jobs
from bot.channels.slack.inbox import Inbox
from bot.settings import Settings
from bot.storage import Database
from tests.slack.fake_slack import (
    SAM_ID,
    FakeSlack,
    Models,
    SlackDriver,
    cached_models,
    fake_slack,
    message_im,
    slack,
    slack_settings,
)

__all__ = ["cached_models", "fake_slack", "slack"]  # fixtures used below

OUT_OF_OFFICE = "how do I turn on my out of office reply in Outlook"


def _title(post: Any) -> str:
    return " ".join(b["text"]["text"].lower() for b in post.blocks if b["type"] == "header")


async def test_the_same_event_delivered_four_times_is_answered_once(slack: SlackDriver) -> None:
    body = message_im(SAM_ID, OUT_OF_OFFICE)
    first = await slack.send(body)
    assert first.status == 200
    for retry in (1, 2, 3):
        again = await slack.send(
            body, headers={"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        )
        assert again.status == 200

    await slack.fake.wait_for("chat.postMessage")
    await slack.fake.settle(1.0)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_two_replicas_agree_on_a_retried_event(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> None:
    """Slack retries to whichever replica the load balancer picks: still one reply."""
    config = slack_settings(settings, fake_slack)
    body = message_im(SAM_ID, "how do I share my calendar")
    async with (
        cached_models.app(config, watch_knowledge=False) as first,
        cached_models.app(config, watch_knowledge=False) as second,
        TestClient(TestServer(first)) as one,
        TestClient(TestServer(second)) as two,
    ):
        replicas = [SlackDriver(one, fake_slack), SlackDriver(two, fake_slack)]
        responses = await asyncio.gather(
            *(
                replicas[n % 2].send(body, headers={"X-Slack-Retry-Num": str(n)} if n else None)
                for n in range(4)
            )
        )
        assert [r.status for r in responses] == [200] * 4
        await fake_slack.wait_for("chat.postMessage")
        await fake_slack.settle(1.0)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_rate_limited_call_waits_for_retry_after_and_succeeds(
    slack: SlackDriver,
) -> None:
    slack.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await slack.send(message_im(SAM_ID, OUT_OF_OFFICE))

    [post] = await slack.fake.wait_for("chat.postMessage")
    attempts = [c for c in slack.fake.calls if c.method == "chat.postMessage"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert "out of office" in _title(post) or "automatic repl" in _title(post)


async def test_ten_people_at_once_each_get_their_own_answer(slack: SlackDriver) -> None:
    questions = {
        0: (OUT_OF_OFFICE, ("out of office", "automatic repl")),
        1: ("how do I share my calendar", ("calendar",)),
    }
    people = {}
    for n in range(10):
        user = f"UPERSON{n:02d}"
        domain = "dacorum.gov.uk" if n % 2 else "aylesburyvaledc.gov.uk"
        slack.fake.add_user(user, f"person.{n}@{domain}", f"Person {n}")
        people[user] = questions[n % 2]

    responses = await asyncio.gather(
        *(slack.send(message_im(user, question)) for user, (question, _) in people.items())
    )
    assert all(r.status == 200 for r in responses)

    posts = await slack.fake.wait_for("chat.postMessage", 10, within=60)
    await slack.fake.settle(0.5)
    assert len(slack.fake.calls_to("chat.postMessage")) == 10
    by_channel = {p.params["channel"]: p for p in posts}
    for user, (_, expected) in people.items():
        post = by_channel["D" + user[1:]]
        text = post.block_text.lower()
        assert any(word in text for word in expected), (user, text)


async def test_requests_recorded_before_a_restart_are_answered_after_it(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> None:
    """The inbox outlives the process: pending rows, and rows a dead replica held."""
    db = Database(settings.database_url)
    await db.upgrade()
    event = message_im(SAM_ID, OUT_OF_OFFICE)["event"]
    job = jobs.from_message(event)
    assert job is not None
    other = jobs.from_message({**event, "user": "UALEXJONES", "channel": "DALEXJONES"})
    assert other is not None
    old = Inbox(db, worker_id="replica-that-died")
    assert await old.record("event:EvPending", job)
    assert await old.record("event:EvHeld", other)
    held = await old.claim(limit=2, lease=timedelta(seconds=0))  # its lease runs out at once
    assert len(held) == 2
    await old.release([held[0].id])  # one given back at shutdown, one held by the dead replica
    await db.dispose()

    config = slack_settings(settings, fake_slack)
    async with cached_models.app(config, watch_knowledge=False) as app, TestClient(TestServer(app)):
        posts = await fake_slack.wait_for("chat.postMessage", 2)
        await fake_slack.settle(0.5)
    assert sorted(p.params["channel"] for p in posts) == ["DALEXJONES", "DSAMTAYLOR"]


async def test_a_restart_sends_what_was_not_sent_without_running_the_turn_again(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> None:
    db = Database(settings.database_url)
    await db.upgrade()
    job = jobs.from_message(message_im(SAM_ID, "how do I share my calendar")["event"])
    assert job is not None
    old = Inbox(db, worker_id="replica-that-died")
    await old.record("event:EvHalfSent", job)
    [row] = await old.claim(limit=1, lease=timedelta(seconds=0))
    ops = [
        {"op": "post", "channel": "DSAMTAYLOR", "message": {"text": text, "blocks": []}}
        for text in ("first part", "second part")
    ]
    await old.save_outbox(row, {"ops": ops, "sent": 1})
    await db.dispose()

    config = slack_settings(settings, fake_slack)
    async with cached_models.app(config, watch_knowledge=False) as app, TestClient(TestServer(app)):
        [post] = await fake_slack.wait_for("chat.postMessage")
        await fake_slack.settle(0.5)
    assert post.params["text"] == "second part"
    assert not fake_slack.calls_to("users.info")  # the turn was not run again
