"""Approval requests in Slack's triage channel: Approve / Deny by agents, refusals, expiry.

The running app talks to the fake Slack over HTTP; requests are made through the desk's
domain API (as the MFA reset flow does), and agents press the buttons by signed requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete

from bot.desk.approvals import Approval
from bot.desk.tickets import OutboxMessage
from bot.desk.watch import sweep_once
from bot.settings import Settings
from bot.storage import slack_approvals
from bot.storage import staff as staff_repo
from bot.storage.audit import AuditFilter, search
from bot.storage.models import utcnow
from bot.storage.slack_approvals import SlackApprovalMessage
from bot.web import keys
from tests.slack.fake_slack import (
    ALEX_ID,
    SAM_ID,
    Call,
    FakeSlack,
    Models,
    SlackDriver,
    cached_models,
    fake_slack,
    is_approval_request,
    press_approval,
    slack_settings,
)

__all__ = ["cached_models", "fake_slack"]  # fixtures used below

TRIAGE = "CTRIAGE01"
AGENTS_GROUP = "SAGENTS01"
PAT_ID = "UPATAGENT"  # an agent through the Slack user group
KIM_ID = "UKIMAGENT"  # an agent through ITBOT_DESK_AGENTS
PAT = "pat.singh@dacorum.gov.uk"
SUBJECT = "Reset MFA for Sam <Taylor> (sam.taylor@dacorum.gov.uk)"


@pytest.fixture
async def desk_slack(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> AsyncIterator[SlackDriver]:
    fake_slack.add_user(PAT_ID, PAT, "Pat Singh")
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


async def _request(
    slack: SlackDriver,
    *,
    email: str = "sam.taylor@dacorum.gov.uk",
    user_id: str = SAM_ID,
    now: datetime | None = None,
) -> int:
    """Someone asks, in Slack, for a change that needs an agent's approval."""
    services = slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        council = "dacorum" if email.endswith("dacorum.gov.uk") else "aylesbury-vale"
        person = await staff_repo.get_or_create(
            session, email=email, council=council, slack_user_id=user_id
        )
        approval = await services.desk.approvals.request(
            session,
            kind="reset_mfa",
            requester=person,
            subject=SUBJECT if user_id == SAM_ID else f"Reset MFA for {email}",
            channel="slack",
            thread="dm",
            now=now or utcnow(),
            details={"email": email},
        )
        approval_id: int = approval.id
        return approval_id


async def _approval(slack: SlackDriver, approval_id: int) -> Approval:
    services = slack.client.app[keys.SERVICES]
    async with services.db.session() as session:
        approval: Approval | None = await services.desk.approvals.get(session, approval_id)
        assert approval is not None
        return approval


async def _eventually(slack: SlackDriver, approval_id: int, status: str) -> Approval:
    deadline = time.monotonic() + 10
    while True:
        approval = await _approval(slack, approval_id)
        if approval.status == status or time.monotonic() > deadline:
            return approval
        await asyncio.sleep(0.05)


async def _posted(slack: SlackDriver, approval_id: int) -> tuple[str, str] | None:
    """Where the request's message is, once the worker has recorded it."""
    services = slack.client.app[keys.SERVICES]
    deadline = time.monotonic() + 10
    while True:
        async with services.db.session() as session:
            where = await slack_approvals.message(session, approval_id)
        if where is not None or time.monotonic() > deadline:
            return where
        await asyncio.sleep(0.05)


def _is_request_post(call: Call) -> bool:
    return is_approval_request(call, TRIAGE)


def _press(user: str, post: Call, verb: str) -> str:
    """``user`` presses Approve or Deny on the request's message ``post``."""
    return press_approval(user, post, verb, TRIAGE)


def _to(user: str) -> Any:
    return lambda c: c.params.get("channel") == "D" + user[1:]


async def test_a_request_gets_a_message_with_approve_and_deny(desk_slack: SlackDriver) -> None:
    approval_id = await _request(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_request_post)
    text = post.block_text
    assert "Sam &lt;Taylor&gt;" in text  # people's text is escaped, never markup
    assert "Dacorum Borough Council" in text and "Expires" in text
    assert "itbot:triage:approve" in text and "itbot:triage:deny" in text
    assert f"/desk/approvals|Approval needed {approval_id}" in text
    assert await _posted(desk_slack, approval_id) == (TRIAGE, post.result["ts"])


async def test_an_agent_approves_and_the_message_shows_it(desk_slack: SlackDriver) -> None:
    approval_id = await _request(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_request_post)
    await desk_slack.send(_press(PAT_ID, post, "approve"))
    [update] = await desk_slack.fake.wait_for("chat.update")
    assert update.params["ts"] == post.result["ts"]
    assert "Approved by Pat Singh" in update.block_text
    assert "itbot:triage:approve" not in update.block_text  # the buttons are gone
    approval = await _eventually(desk_slack, approval_id, "approved")
    assert approval.decided_by is not None and approval.decided_by.email == PAT
    # the approved change is carried out (bot/flows/approved.py), then Sam is told
    [dm] = await desk_slack.fake.wait_for("chat.postMessage", where=_to(SAM_ID))
    assert "sign-in methods have been removed" in dm.block_text
    services = desk_slack.client.app[keys.SERVICES]
    async with services.db.session() as session:
        [entry] = await search(session, AuditFilter(action="approval_approved"))
    assert entry.actor == PAT and entry.details["channel"] == "slack"


async def test_a_denial_is_shown_and_the_requester_is_told(desk_slack: SlackDriver) -> None:
    approval_id = await _request(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_request_post)
    await desk_slack.send(_press(KIM_ID, post, "deny"))
    [update] = await desk_slack.fake.wait_for("chat.update")
    assert "Denied by Kim Lee" in update.block_text
    [dm] = await desk_slack.fake.wait_for("chat.postMessage", where=_to(SAM_ID))
    assert "didn't approve your request to reset your sign-in verification (MFA)" in dm.block_text
    assert "nothing has been changed" in dm.block_text
    assert "01632 960 200 or ictservicedesk@dacorum.gov.uk" in dm.block_text  # Dacorum's desk
    assert "Reply in this thread" not in dm.block_text  # about no ticket: nothing to reply to
    assert (await _approval(desk_slack, approval_id)).status == "denied"


async def test_non_agents_and_the_requester_are_refused_privately(
    desk_slack: SlackDriver,
) -> None:
    approval_id = await _request(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_request_post)
    await desk_slack.send(_press(ALEX_ID, post, "approve"))
    [note] = await desk_slack.fake.wait_for("chat.postEphemeral")
    assert note.params["user"] == ALEX_ID
    assert "Only service desk agents can approve or deny" in note.params["text"]

    # an agent asks for their own MFA reset: another agent must decide it
    own = await _request(desk_slack, email=PAT, user_id=PAT_ID)
    [_, own_post] = await desk_slack.fake.wait_for("chat.postMessage", 2, where=_is_request_post)
    await desk_slack.send(_press(PAT_ID, own_post, "approve"))
    [_, mine] = await desk_slack.fake.wait_for("chat.postEphemeral", 2)
    assert mine.params["user"] == PAT_ID and "yourself" in mine.params["text"]
    await desk_slack.fake.settle()
    assert not desk_slack.fake.calls_to("chat.update")
    assert (await _approval(desk_slack, approval_id)).status == "pending"
    assert (await _approval(desk_slack, own)).status == "pending"
    services = desk_slack.client.app[keys.SERVICES]
    async with services.db.session() as session:
        refused = await search(session, AuditFilter(action="approval_refused"))
    assert sorted(e.details["reason"] for e in refused) == ["not_agent", "own_request"]


async def test_a_stale_press_gets_a_private_note(desk_slack: SlackDriver) -> None:
    approval_id = await _request(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_request_post)
    await desk_slack.send(_press(PAT_ID, post, "approve"))
    await _eventually(desk_slack, approval_id, "approved")
    await desk_slack.send(_press(KIM_ID, post, "deny"))  # from a screen not yet updated
    [note] = await desk_slack.fake.wait_for("chat.postEphemeral")
    assert note.params["user"] == KIM_ID
    assert "already approved by Pat Singh" in note.params["text"]
    assert (await _approval(desk_slack, approval_id)).status == "approved"


async def test_an_expired_request_is_shown_and_the_requester_is_told(
    desk_slack: SlackDriver,
) -> None:
    approval_id = await _request(desk_slack, now=utcnow() - timedelta(days=7))
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_request_post)
    services = desk_slack.client.app[keys.SERVICES]
    # the app's own watcher may expire it first; either way it expires once
    await sweep_once(services.db, services.desk, now=utcnow())
    assert (await _eventually(desk_slack, approval_id, "expired")).status == "expired"
    [dm] = await desk_slack.fake.wait_for("chat.postMessage", where=_to(SAM_ID))
    assert "Nobody on the Joint ICT Service Desk could approve" in dm.block_text
    if "itbot:triage:approve" not in post.block_text:
        # under load the watcher expired it before the worker posted: posted as expired
        assert "Expired" in post.block_text and "nobody decided in time" in post.block_text
        return
    [update] = await desk_slack.fake.wait_for("chat.update")
    assert update.params["ts"] == post.result["ts"]
    assert "Expired" in update.block_text and "nobody decided in time" in update.block_text
    # a press on the old message now only says so
    await desk_slack.send(_press(PAT_ID, post, "approve"))
    [note] = await desk_slack.fake.wait_for("chat.postEphemeral")
    assert "expired" in note.params["text"]
    assert (await _approval(desk_slack, approval_id)).status == "expired"


async def test_a_crash_after_posting_leaves_one_message(desk_slack: SlackDriver) -> None:
    """The worker posted, then died before recording it: the retry finds the message."""
    approval_id = await _request(desk_slack)
    [post] = await desk_slack.fake.wait_for("chat.postMessage", where=_is_request_post)
    assert await _posted(desk_slack, approval_id) is not None
    services = desk_slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        await session.execute(
            delete(SlackApprovalMessage).where(SlackApprovalMessage.approval_id == approval_id)
        )
        session.add(
            OutboxMessage(
                ticket_id=None,
                kind="approval_requested",
                destination="slack",
                payload={"approval_id": approval_id, "kind": "reset_mfa"},
                created_at=utcnow(),
                available_at=utcnow(),
                attempts=1,
            )
        )
    [found] = await desk_slack.fake.wait_for("chat.update")
    assert found.params["ts"] == post.result["ts"]
    await desk_slack.fake.settle()
    assert len(desk_slack.fake.calls_to("chat.postMessage")) == 1
