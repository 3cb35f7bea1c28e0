"""Agents in Slack: the triage channel, its controls, the two-way thread relay, SLA alerts.

The running app talks to the fake Slack over HTTP; tickets are raised through the desk's
domain API (or a Slack conversation), and agents act by signed Slack requests.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete, select

from bot.channels import slack as slack_channel
from bot.desk import accounts
from bot.desk.service import Actor
from bot.desk.tickets import OutboxMessage, Ticket, TicketComment
from bot.desk.watch import sweep_once
from bot.settings import Settings
from bot.storage import slack_threads
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.storage.slack_threads import SlackTicketThread
from bot.web import keys
from tests.slack.fake_slack import (
    ALEX_ID,
    BOT_USER,
    SAM_ID,
    TEAM,
    Call,
    FakeSlack,
    Models,
    SlackDriver,
    cached_models,
    event_callback,
    fake_slack,
    interaction,
    message_im,
    press,
    slack_settings,
)

__all__ = ["cached_models", "fake_slack"]  # fixtures used below

TRIAGE = "CTRIAGE01"
AGENTS_GROUP = "SAGENTS01"
PAT_ID = "UPATAGENT"  # an agent through the Slack user group
KIM_ID = "UKIMAGENT"  # an agent through ITBOT_DESK_AGENTS


@pytest.fixture
async def desk_slack(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> AsyncIterator[SlackDriver]:
    fake_slack.add_user(PAT_ID, "pat.singh@dacorum.gov.uk", "Pat Singh")
    fake_slack.add_user(KIM_ID, "kim.lee@aylesburyvaledc.gov.uk", "Kim Lee")
    fake_slack.usergroups[AGENTS_GROUP] = [PAT_ID]
    config = slack_settings(
        settings,
        fake_slack,
        slack_triage_channel=TRIAGE,
        slack_agent_group=AGENTS_GROUP,
        desk_agents=("kim.lee@aylesburyvaledc.gov.uk",),
    )
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        yield SlackDriver(client, fake_slack)


async def _raise(slack: SlackDriver, summary: str = "Shared mailbox missing", **kw: Any) -> str:
    """Sam raises a ticket through the desk's domain API, as the chat flow does from Slack."""
    services = slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        sam = await staff_repo.get_or_create(
            session,
            email="sam.taylor@dacorum.gov.uk",
            council="dacorum",
            display_name="Sam Taylor",
            slack_user_id=SAM_ID,
        )
        ticket = await services.desk.raise_ticket(
            session,
            requester=sam,
            summary=summary,
            category=kw.get("category", "email"),
            priority=kw.get("priority", "P3"),
            now=kw.get("now") or utcnow(),
            reply_channel="slack",
            reply_thread="dm",
        )
        return str(ticket.ref)


async def _comments(slack: SlackDriver, ref: str) -> tuple[Ticket, list[TicketComment]]:
    """The ticket and its comments, oldest first."""
    services = slack.client.app[keys.SERVICES]
    async with services.db.session() as session:
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        return ticket, await services.desk.comments(session, ticket)


async def _eventually(slack: SlackDriver, ref: str, check: Any, within: float = 10) -> Ticket:
    """The ticket once ``check(ticket)`` holds (the worker commits just after it calls Slack)."""
    deadline = time.monotonic() + within
    while True:
        ticket = await _ticket(slack, ref)
        if check(ticket) or time.monotonic() > deadline:
            return ticket
        await asyncio.sleep(0.05)


async def _posted(slack: SlackDriver, ref: str, within: float = 10) -> tuple[str, str] | None:
    """Where the ticket's triage message is, once the worker has recorded it."""
    services = slack.client.app[keys.SERVICES]
    deadline = time.monotonic() + within
    while True:
        async with services.db.session() as session:
            ticket = await services.desk.get(session, ref)
            assert ticket is not None
            posted = await slack_threads.triage_message(session, ticket.id)
        if posted is not None or time.monotonic() > deadline:
            return posted
        await asyncio.sleep(0.05)


async def _ticket(slack: SlackDriver, ref: str) -> Ticket:
    services = slack.client.app[keys.SERVICES]
    async with services.db.session() as session:
        ticket: Ticket | None = await services.desk.get(session, ref)
        assert ticket is not None
        return ticket


def _is_triage_post(call: Call) -> bool:
    return call.params.get("channel") == TRIAGE and not call.params.get("thread_ts")


def _control(post: Call, verb: str) -> tuple[dict[str, Any], str]:
    for block in post.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == f"itbot:triage:{verb}":
                return element, str(block["block_id"])
    raise AssertionError(f"no {verb} control in {post.block_text}")


def _act(user: str, post: Call, verb: str, **chosen: Any) -> str:
    """``user`` uses the ``verb`` control of the triage message ``post``."""
    element, block_id = _control(post, verb)
    action = {
        "type": element["type"],
        "action_id": element["action_id"],
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
        **({"value": element["value"]} if "value" in element else {}),
        **chosen,
    }
    ts = str(post.result["ts"])
    return interaction(
        {
            "type": "block_actions",
            "user": {"id": user},
            "container": {"type": "message", "message_ts": ts, "channel_id": TRIAGE},
            "channel": {"id": TRIAGE},
            "message": {"type": "message", "user": BOT_USER, "ts": ts, "blocks": post.blocks},
            "actions": [action],
        }
    )


def _thread_reply(user: str, channel: str, thread_ts: str, text: str) -> dict[str, Any]:
    return event_callback(
        {
            "type": "message",
            "channel": channel,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "thread_ts": thread_ts,
            "team": TEAM,
        }
    )


def _to(user: str) -> Any:
    return lambda c: c.params.get("channel") == "D" + user[1:]


async def test_a_new_ticket_gets_one_triage_message_with_its_controls(
    desk_slack: SlackDriver,
) -> None:
    ref = await _raise(desk_slack, "Shared mailbox <missing> & more", priority="P2")
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    text = post.block_text
    assert ref in text and "Dacorum Borough Council" in text and "P2" in text
    assert "&lt;missing&gt; &amp; more" in text  # the summary is escaped, never markup
    assert "Response due" in text and "Resolution due" in text
    for verb in ("claim", "assign", "priority", "resolve"):
        _control(post, verb)
    assert post.params["text"]  # the notification fallback
    metadata = post.params["metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata["event_payload"]["ref"] == ref
    assert await _posted(desk_slack, ref) == (TRIAGE, post.result["ts"])
    await desk_slack.fake.settle()
    assert len(desk_slack.fake.calls_to("chat.postMessage")) == 1


async def test_agents_listed_in_settings_are_agents_from_the_start(
    desk_slack: SlackDriver,
) -> None:
    services = desk_slack.client.app[keys.SERVICES]
    async with services.db.session() as session:
        kim = await staff_repo.get_by_email(session, "kim.lee@aylesburyvaledc.gov.uk")
    assert kim is not None and kim.is_agent and kim.council == "aylesbury-vale"


async def test_an_agent_claims_and_the_message_and_the_requester_follow(
    desk_slack: SlackDriver,
) -> None:
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await desk_slack.send(_act(PAT_ID, post, "claim"))
    [update] = await desk_slack.fake.wait_for("chat.update")
    assert update.params["ts"] == post.result["ts"]
    assert "Assigned to Pat Singh" in update.block_text
    [dm] = await desk_slack.fake.wait_for("chat.postMessage", where=_to(SAM_ID))
    assert ref in dm.params["text"] and "Pat Singh" in dm.params["text"]
    ticket = await _eventually(desk_slack, ref, lambda t: t.assignee)
    assert ticket.assignee is not None and ticket.assignee.email == "pat.singh@dacorum.gov.uk"
    assert ticket.status == "open"


async def test_someone_who_is_not_an_agent_is_refused_privately(desk_slack: SlackDriver) -> None:
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await desk_slack.send(_act(ALEX_ID, post, "resolve"))
    [note] = await desk_slack.fake.wait_for("chat.postEphemeral")
    assert note.params["user"] == ALEX_ID and "Only service desk agents" in note.params["text"]
    await desk_slack.fake.settle()
    assert not desk_slack.fake.calls_to("chat.update")
    assert (await _ticket(desk_slack, ref)).status == "new"


async def _staff(slack: SlackDriver, email: str) -> Any:
    async with slack.client.app[keys.SERVICES].db.session() as session:
        return await staff_repo.get_by_email(session, email)


async def test_an_agent_who_leaves_the_user_group_stops_being_an_agent(
    desk_slack: SlackDriver,
) -> None:
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await desk_slack.send(_act(PAT_ID, post, "claim"))
    await _eventually(desk_slack, ref, lambda t: t.assignee)
    pat = await _staff(desk_slack, "pat.singh@dacorum.gov.uk")
    assert (pat.is_agent, pat.agent_via) == (True, "slack_group")
    # an agent added by hand, who is not in the group either
    services = desk_slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        await accounts.add_agent(
            session,
            email="jo.brown@dacorum.gov.uk",
            council="dacorum",
            password_hash=None,
            now=utcnow(),
        )

    desk_slack.fake.usergroups[AGENTS_GROUP] = []  # Pat moves to another team
    agents = desk_slack.client.app[slack_channel.SLACK].actions.agents
    async with services.db.session() as session, session.begin():
        assert await agents.sync(session) == 1  # what the bot does every few minutes
    pat = await _staff(desk_slack, "pat.singh@dacorum.gov.uk")
    assert (pat.is_agent, pat.agent_via) == (False, None)
    jo = await _staff(desk_slack, "jo.brown@dacorum.gov.uk")
    kim = await _staff(desk_slack, "kim.lee@aylesburyvaledc.gov.uk")
    assert (jo.is_agent, jo.agent_via) == (True, "manual")
    assert (kim.is_agent, kim.agent_via) == (True, "settings")

    await desk_slack.send(_act(PAT_ID, post, "resolve"))
    [note] = await desk_slack.fake.wait_for("chat.postEphemeral")
    assert note.params["user"] == PAT_ID and "Only service desk agents" in note.params["text"]
    assert (await _ticket(desk_slack, ref)).status == "open"

    # back in the group: an agent again at the next look
    desk_slack.fake.usergroups[AGENTS_GROUP] = [PAT_ID]
    agents.ttl = 0
    await desk_slack.send(_act(PAT_ID, post, "resolve"))
    ticket = await _eventually(desk_slack, ref, lambda t: t.status == "resolved")
    assert ticket.status == "resolved"


async def test_slack_trouble_keeps_the_agents_it_knew(desk_slack: SlackDriver) -> None:
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await desk_slack.send(_act(PAT_ID, post, "claim"))
    await _eventually(desk_slack, ref, lambda t: t.assignee)
    del desk_slack.fake.usergroups[AGENTS_GROUP]  # Slack now answers with an error
    agents = desk_slack.client.app[slack_channel.SLACK].actions.agents
    services = desk_slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        assert await agents.sync(session) == 0
    pat = await _staff(desk_slack, "pat.singh@dacorum.gov.uk")
    assert pat.is_agent


async def test_assign_priority_and_resolve_from_the_controls(desk_slack: SlackDriver) -> None:
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    # Kim (an agent by the configured list) assigns to Pat (an agent by the user group)
    await desk_slack.send(_act(KIM_ID, post, "assign", selected_user=PAT_ID))
    await desk_slack.fake.wait_for("chat.update")
    option = {"text": {"type": "plain_text", "text": "P1"}, "value": "P1"}
    await desk_slack.send(_act(KIM_ID, post, "priority", selected_option=option))
    updates = await desk_slack.fake.wait_for(
        "chat.update", where=lambda c: "P1" in c.params.get("text", "")
    )
    assert "Assigned to Pat Singh" in updates[-1].block_text
    ticket = await _ticket(desk_slack, ref)
    assert ticket.priority == "P1" and ticket.assignee is not None
    policy = desk_slack.client.app[keys.SERVICES].desk.policy
    assert ticket.response_due == policy.clocks("P1", ticket.created_at).response_due
    await desk_slack.send(_act(PAT_ID, post, "resolve"))
    resolved = await desk_slack.fake.wait_for(
        "chat.update", where=lambda c: "Resolved" in c.params.get("text", "")
    )
    assert "itbot:triage:claim" not in resolved[-1].block_text  # no controls once resolved
    # Sam hears it was resolved and is asked how we did; the rating shows in triage
    [ask] = await desk_slack.fake.wait_for(
        "chat.postMessage", where=lambda c: _to(SAM_ID)(c) and "How did we do" in c.block_text
    )
    assert (await _ticket(desk_slack, ref)).status == "resolved"
    await desk_slack.send(press(SAM_ID, ask, "5"))
    await desk_slack.fake.wait_for("chat.update", where=lambda c: "rated 5/5" in c.block_text)
    # "Anything you'd like to add?": Sam's next message is the comment
    await desk_slack.fake.wait_for(
        "chat.postMessage", where=lambda c: _to(SAM_ID)(c) and "like to add" in c.block_text
    )
    await desk_slack.send(message_im(SAM_ID, "Quick and friendly, thank you"))
    await desk_slack.fake.wait_for(
        "chat.postMessage", where=lambda c: _to(SAM_ID)(c) and "feedback goes" in c.block_text
    )
    ticket = await _eventually(desk_slack, ref, lambda t: t.csat_comment)
    assert ticket.csat_score == 5 and ticket.csat_comment == "Quick and friendly, thank you"


async def test_thread_replies_travel_both_ways_and_internal_notes_stay_inside(
    desk_slack: SlackDriver,
) -> None:
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    triage_ts = str(post.result["ts"])

    # an internal note: kept on the ticket, never sent to Sam
    await desk_slack.send(
        _thread_reply(PAT_ID, TRIAGE, triage_ts, "internal: checking the licence first")
    )
    [lock] = await desk_slack.fake.wait_for("reactions.add")
    assert lock.params["name"] == "lock"

    # the agent's public reply reaches Sam's DM as the agent's reply
    await desk_slack.send(
        _thread_reply(PAT_ID, TRIAGE, triage_ts, "Could you sign out and back in, please?")
    )
    [dm] = await desk_slack.fake.wait_for(
        "chat.postMessage", where=lambda c: _to(SAM_ID)(c) and "sign out" in c.block_text
    )
    assert "Pat Singh" in dm.block_text and "Reply in this thread" in dm.block_text
    assert "licence" not in json.dumps([c.params for c in desk_slack.fake.calls if _to(SAM_ID)(c)])

    # Sam answers in that DM's thread: it comes back into the triage thread
    await desk_slack.send(
        _thread_reply(SAM_ID, "D" + SAM_ID[1:], str(dm.result["ts"]), "Done, still broken")
    )
    [relayed] = await desk_slack.fake.wait_for(
        "chat.postMessage",
        where=lambda c: (
            c.params.get("thread_ts") == triage_ts and "still broken" in c.params["text"]
        ),
    )
    assert "Sam Taylor" in relayed.params["text"]
    await desk_slack.fake.wait_for(
        "chat.postMessage", where=lambda c: _to(SAM_ID)(c) and "added that to" in c.block_text
    )

    ticket, comments = await _comments(desk_slack, ref)
    assert [(c.author_role, c.public, c.via) for c in comments] == [
        ("agent", False, "slack"),
        ("agent", True, "slack"),
        ("requester", True, "slack"),
    ]
    assert ticket.first_response_at is not None


async def test_a_reply_before_the_ticket_message_is_recorded_still_reaches_the_ticket(
    desk_slack: SlackDriver,
) -> None:
    # Slack has posted the ticket's message (and later the news in Sam's DM), but the bot
    # hears so 3 s later: a reply in that window is under a message not recorded yet
    desk_slack.fake.answer_late(
        "chat.postMessage",
        3.0,
        where=lambda c: _is_triage_post(c) or (_to(SAM_ID)(c) and "Reply in this" in c.block_text),
    )
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    triage_ts = str(post.result["ts"])
    await desk_slack.send(
        _thread_reply(PAT_ID, TRIAGE, triage_ts, "internal: on it, checking the licence")
    )
    await desk_slack.send(_thread_reply(PAT_ID, TRIAGE, triage_ts, "Which mailbox is it?"))
    [dm] = await desk_slack.fake.wait_for(
        "chat.postMessage", where=lambda c: _to(SAM_ID)(c) and "Which mailbox" in c.block_text
    )
    assert "licence" not in dm.block_text
    await desk_slack.send(
        _thread_reply(SAM_ID, "D" + SAM_ID[1:], str(dm.result["ts"]), "The Planning one")
    )
    await desk_slack.fake.wait_for(
        "chat.postMessage",
        where=lambda c: c.params.get("thread_ts") == triage_ts and "Planning" in c.params["text"],
    )
    reactions = await desk_slack.fake.wait_for("reactions.add", 3)
    assert [r.params["name"] for r in reactions] == [
        "lock",
        "incoming_envelope",
        "white_check_mark",
    ]
    _, comments = await _comments(desk_slack, ref)
    assert [(c.author_role, c.public, c.body) for c in comments] == [
        ("agent", False, "on it, checking the licence"),
        ("agent", True, "Which mailbox is it?"),
        ("requester", True, "The Planning one"),
    ]


async def test_a_non_agent_reply_in_the_thread_does_not_reach_the_requester(
    desk_slack: SlackDriver,
) -> None:
    await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await desk_slack.send(_thread_reply(ALEX_ID, TRIAGE, str(post.result["ts"]), "me too!"))
    [note] = await desk_slack.fake.wait_for("chat.postEphemeral")
    assert "not passed on" in note.params["text"]
    await desk_slack.fake.settle()
    assert not [c for c in desk_slack.fake.calls_to("chat.postMessage") if _to(SAM_ID)(c)]


async def test_sla_alerts_are_posted_once_each(desk_slack: SlackDriver) -> None:
    services = desk_slack.client.app[keys.SERVICES]
    raised = utcnow() - timedelta(days=10)  # long past both P2 clocks
    ref = await _raise(desk_slack, "Payroll mailbox down", priority="P2", now=raised)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await _posted(desk_slack, ref)
    assert await sweep_once(services.db, services.desk, now=utcnow()) == 1
    assert await sweep_once(services.db, services.desk, now=utcnow()) == 0  # once only
    [alert] = await desk_slack.fake.wait_for(
        "chat.postMessage", where=lambda c: c.params.get("thread_ts") == post.result["ts"]
    )
    assert alert.params["reply_broadcast"] in (True, "true", "1")  # seen in the channel too
    assert "First response overdue" in alert.params["text"]
    assert "Resolution overdue" in alert.params["text"]
    assert "due soon" not in alert.params["text"]  # the graver alert of each clock only
    ticket = await _ticket(desk_slack, ref)
    assert set(ticket.sla_alerts) == {
        "response_at_risk",
        "response_breached",
        "resolution_at_risk",
        "resolution_breached",
    }
    assert ticket.sla_next_alert_at is None
    await desk_slack.fake.settle()
    alerts = [c for c in desk_slack.fake.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert len(alerts) == 1


async def test_a_crash_after_posting_leaves_one_triage_message(desk_slack: SlackDriver) -> None:
    """The worker posted, then died before recording it: the retry finds the message."""
    ref = await _raise(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await _posted(desk_slack, ref)
    services = desk_slack.client.app[keys.SERVICES]
    # forget that it was posted (as if the transaction recording it had never committed)
    async with services.db.session() as session, session.begin():
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        await session.execute(
            delete(SlackTicketThread).where(SlackTicketThread.ticket_id == ticket.id)
        )
        session.add(
            OutboxMessage(
                ticket_id=ticket.id,
                kind="ticket_created",
                destination="slack",
                payload={"ref": ref},
                created_at=utcnow(),
                available_at=utcnow(),
                attempts=1,
            )
        )
    [found] = await desk_slack.fake.wait_for("chat.update")
    assert found.params["ts"] == post.result["ts"]
    assert desk_slack.fake.calls_to("conversations.history")
    await desk_slack.fake.settle()
    assert len([c for c in desk_slack.fake.calls_to("chat.postMessage") if _is_triage_post(c)]) == 1
    assert await _posted(desk_slack, ref) == (TRIAGE, post.result["ts"])


async def _redeliver(slack: SlackDriver, kind: str, destination: str) -> None:
    """As if the worker had died after posting the ``kind`` row but before recording it."""
    services = slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        rows = await session.execute(
            select(OutboxMessage).where(
                OutboxMessage.kind == kind, OutboxMessage.destination == destination
            )
        )
        [row] = rows.scalars().all()
        assert row.sent_at is not None
        row.sent_at = None
        row.attempts = 1
        row.available_at = utcnow()
        row.locked_until = None


async def test_a_crash_after_relaying_or_notifying_sends_nothing_twice(
    desk_slack: SlackDriver,
) -> None:
    ref = await _raise(desk_slack)
    await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    await _posted(desk_slack, ref)
    services = desk_slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        await services.desk.comment(
            session, ticket, Actor.of(ticket.requester), "It's the housing inbox", now=utcnow()
        )
        pat = await staff_repo.get_or_create(
            session, email="pat.singh@dacorum.gov.uk", council="dacorum", slack_user_id=PAT_ID
        )
        pat.is_agent = True
        await services.desk.comment(
            session, ticket, Actor.of(pat), "Thanks, adding it now", now=utcnow()
        )

    def relayed(c: Call) -> bool:
        return c.params.get("channel") == TRIAGE and "housing inbox" in c.params.get("text", "")

    def told(c: Call) -> bool:
        return _to(SAM_ID)(c) and "adding it now" in c.params.get("text", "")

    await desk_slack.fake.wait_for("chat.postMessage", where=relayed)
    await desk_slack.fake.wait_for("chat.postMessage", where=told)
    await desk_slack.fake.settle()
    await _redeliver(desk_slack, "comment_added", "slack")  # the requester's, to the agents
    await _redeliver(desk_slack, "comment_added", "requester")  # the agent's, to the requester
    await desk_slack.fake.wait_for("conversations.replies")
    await desk_slack.fake.wait_for("conversations.history", where=_to(SAM_ID))
    await desk_slack.fake.settle()
    posts = desk_slack.fake.calls_to("chat.postMessage")
    assert len([c for c in posts if relayed(c)]) == 1
    assert len([c for c in posts if told(c)]) == 1


async def test_a_ticket_raised_in_a_slack_conversation_reaches_triage(
    desk_slack: SlackDriver,
) -> None:
    await desk_slack.send(
        message_im(SAM_ID, "please raise a ticket: the shared calendar for room 2 won't open")
    )
    for _ in range(6):  # answer whatever the flow asks, by its buttons, until it files
        posts = await desk_slack.fake.wait_for("chat.postMessage", where=_to(SAM_ID))
        last = posts[-1]
        if "JSD-" in last.params["text"]:
            break
        labels = [
            e["text"]["text"]
            for b in last.blocks
            for e in b.get("elements") or []
            if e.get("type") == "button"
        ]
        choice = next(
            (x for x in labels if x.startswith(("Calendar", "Yes", "One person", "No, raise"))),
            labels[0] if labels else None,
        )
        assert choice is not None, last.block_text
        count = len(posts)
        await desk_slack.send(press(SAM_ID, last, choice))
        await desk_slack.fake.wait_for("chat.postMessage", count + 1, where=_to(SAM_ID))
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_triage_post)
    assert "room 2" in post.block_text and "Sam Taylor" in post.block_text
