"""Two ``itbot serve`` processes on one PostgreSQL database behave as one Slack bot.

Every signed event goes to both replicas, with Slack's retries on top: each is answered
once. Then a batch acked by one replica that is killed (SIGKILL) while its turns are in
flight is answered by the other, at most the turn in flight repeated.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.storage import Database
from bot.storage.models import SlackInboxEntry
from tests.deploy.replicas import Replica, replicas, serve_env, wait_until
from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, message_im, sign

pytestmark = pytest.mark.postgres

QUESTIONS = (
    "how do I share my calendar",
    "how do I turn on my out of office reply in Outlook",
    "how do I connect to the office wifi",
    "my printer is not printing",
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.close()


@pytest.fixture
async def pair(
    postgres_url: str, fake: FakeSlack, tmp_path: Path, embedding_cache: Path
) -> AsyncIterator[list[Replica]]:
    env = serve_env(
        postgres_url,
        embedding_cache,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        ITBOT_SLACK_API_URL=fake.api_url,
        ITBOT_NOTIFY=f"file:{tmp_path / 'notify.jsonl'}",
    )
    started = replicas(["a", "b"], env, tmp_path)
    try:
        for replica in started:
            replica.start()
        await asyncio.gather(*(replica.ready() for replica in started))
        yield started
    finally:
        for replica in started:
            replica.stop()
    for replica in started:
        assert "Traceback" not in replica.log() or replica.name == "a", replica.log()


async def _send(
    session: aiohttp.ClientSession, replica: Replica, body: dict[str, Any], retry: int = 0
) -> int:
    text = json.dumps(body)
    headers = {"Content-Type": "application/json", **sign(text)}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    async with session.post(f"{replica.url}/slack/events", data=text, headers=headers) as r:
        return r.status


def _person(fake: FakeSlack, n: int) -> str:
    user = f"UPERSON{n:03d}"
    domain = "dacorum.gov.uk" if n % 2 else "aylesburyvaledc.gov.uk"
    fake.add_user(user, f"person.{n}@{domain}", f"Person {n}")
    return user


def _posts_by_channel(fake: FakeSlack) -> Counter[str]:
    return Counter(str(c.params.get("channel")) for c in fake.calls_to("chat.postMessage"))


async def test_each_event_sent_to_both_replicas_with_retries_is_answered_once(
    pair: list[Replica], fake: FakeSlack
) -> None:
    a, b = pair
    people = [_person(fake, n) for n in range(10)]
    events = [message_im(user, QUESTIONS[n % len(QUESTIONS)]) for n, user in enumerate(people)]
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(
            *(
                _send(session, replica, event, retry)
                for event in events
                for replica, retry in ((a, 0), (b, 0), (a, 1), (b, 2))
            )
        )
    assert set(statuses) == {200}, statuses

    await fake.wait_for("chat.postMessage", len(people), within=60)
    await fake.settle(1.5)
    assert _posts_by_channel(fake) == Counter({"D" + user[1:]: 1 for user in people})


async def test_events_acked_by_a_replica_killed_mid_turn_are_answered_by_the_other(
    pair: list[Replica], fake: FakeSlack, postgres_url: str
) -> None:
    a, b = pair
    # two people, four questions each: a conversation's turns run one after another, so
    # at most one turn per person is in flight when the replica dies
    people = [_person(fake, n) for n in (100, 101)]
    events = [message_im(user, question) for user in people for question in QUESTIONS]
    fake.delays["chat.postMessage"] = 3.0  # a slow Slack: every answer takes 3 s to post
    db = Database(postgres_url)
    try:
        async with aiohttp.ClientSession() as session:
            for event in events:  # in order, so each conversation's rows are in order
                assert await _send(session, a, event) == 200

        async def a_holds_rows() -> bool:
            async with db.session() as s:
                owners = (await s.execute(select(SlackInboxEntry.claimed_by))).scalars()
                return any(f":{a.pid}:" in (owner or "") for owner in owners)

        await wait_until(a_holds_rows, "replica a to claim the batch")
        await wait_until(_async(lambda: bool(fake.in_progress)), "a post in flight", within=60)
        a.kill()
        # the turns in flight at the kill: a post replica a sent just before it died reaches
        # the fake only now (kill() blocked this loop), so they are counted after it; replica
        # b claims nothing before a's lease runs out, seconds later
        await asyncio.sleep(0.3)
        in_flight = Counter(str(c.params.get("channel")) for c in fake.in_progress)

        async def all_done() -> bool:
            async with db.session() as s:
                rows = (await s.execute(select(SlackInboxEntry.status))).scalars().all()
            return len(rows) == len(events) and set(rows) == {"done"}

        await wait_until(all_done, "every event to be answered", within=90)
        await fake.settle(1.0)
        async with db.session() as s:
            owners = set((await s.execute(select(SlackInboxEntry.claimed_by))).scalars())
    finally:
        await db.dispose()

    assert any(f":{b.pid}:" in (owner or "") for owner in owners), owners  # b took over
    posts = _posts_by_channel(fake)
    for user in people:
        channel = "D" + user[1:]
        answered = posts[channel]
        # every question answered; only a turn in flight at the kill may be answered twice
        assert len(QUESTIONS) <= answered <= len(QUESTIONS) + in_flight[channel], (
            channel,
            answered,
            in_flight,
        )


def _async(check: Any) -> Any:
    async def wrapped() -> bool:
        return bool(check())

    return wrapped
