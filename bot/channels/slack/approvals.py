"""Approval requests in the agents' triage channel: Approve / Deny, then who decided.

When a triage channel is configured, Slack subscribes to the desk's ``approval_requested``
and ``approval_decided`` events (:func:`subscribe`) under its ``slack`` destination. Each
request gets one message in the channel with Approve and Deny buttons; when it is
decided or expires the same message shows who decided what, and the buttons go. Where
the message is lives in Slack's own table (:mod:`bot.storage.slack_approvals`).

A press of Approve or Deny is an agent's control like Claim or Resolve: recorded in the
inbox, then :meth:`bot.channels.slack.controls.AgentActions.handle` decides through
:meth:`bot.desk.approvals.Approvals.decide` as the presser's verified Slack identity.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.slack import jobs
from bot.channels.slack.threads import local_time
from bot.desk import outbox
from bot.desk.approvals import APPROVED, DENIED, EXPIRED, PENDING, Approval
from bot.desk.events import APPROVAL_DECIDED, APPROVAL_REQUESTED, Events
from bot.desk.outbox import Handler, Skip
from bot.desk.service import Desk
from bot.desk.tickets import OutboxMessage
from bot.settings import Settings
from bot.storage import slack_approvals

#: the outbox destination of Slack's rows (the triage channel's)
DESTINATION = "slack"
#: the metadata every approval message carries, to find it again after a crash mid-post
METADATA_EVENT = "itbot_approval"
APPROVE, DENY = "approve", "deny"
#: the triage controls that decide an approval; their value is the approval's id
VERBS = (APPROVE, DENY)
#: block_id prefix of an approval message's buttons; the approval's id follows
BLOCK_PREFIX = "approval:"
#: where a request was made, as agents read it
ASKED_IN = {"web": "the web chat", "slack": "Slack", "terminal": "the terminal", "teams": "Teams"}


def subscribe(events: Events, settings: Settings) -> None:
    """Slack's subscriptions to approvals, when it has a triage channel to post to."""
    if settings.slack_enabled and settings.slack_triage_channel:
        events.subscribe(DESTINATION, APPROVAL_REQUESTED, APPROVAL_DECIDED)


class NotYet(Exception):
    """The request's message isn't posted yet: the outbox tries again shortly."""

    retry_after = 2


class ApprovalMessages:
    """The ``slack`` destination's handlers for approvals: one message per request."""

    def __init__(
        self, *, settings: Settings, desk: Desk, client: AsyncWebClient, env: Environment
    ) -> None:
        self.settings = settings
        self.desk = desk
        self.client = client
        self.env = env
        self.channel = settings.slack_triage_channel

    def handlers(self) -> dict[str, Handler]:
        return {APPROVAL_REQUESTED: self.post, APPROVAL_DECIDED: self.update}

    async def post(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``approval_requested``: the request's message, once, showing it as it is now."""
        approval = await self._approval(session, row)
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        message = self.message(approval)
        posted = await slack_approvals.message(session, approval.id)
        if posted is None and row.attempts:
            posted = await self._find_posted(approval)
        if posted is not None:
            await self.client.chat_update(channel=posted[0], ts=posted[1], **message)
            await slack_approvals.remember(session, approval.id, *posted)
            return
        response = await self.client.chat_postMessage(
            channel=self.channel,
            **message,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"approval_id": approval.id}},
            unfurl_links=False,
            unfurl_media=False,
        )
        await slack_approvals.remember(
            session, approval.id, str(response["channel"]), str(response["ts"])
        )

    async def update(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``approval_decided``: the message shows who decided what; the buttons go."""
        approval = await self._approval(session, row)
        posted = await slack_approvals.message(session, approval.id)
        if posted is None:
            if await outbox.waiting_about(
                session,
                kind=APPROVAL_REQUESTED,
                destination=DESTINATION,
                key="approval_id",
                value=approval.id,
            ):
                raise NotYet(f"approval {approval.id}: its message is not posted yet")
            raise Skip(f"approval {approval.id} has no message in the triage channel")
        await self.client.chat_update(channel=posted[0], ts=posted[1], **self.message(approval))

    # -- rendering ----------------------------------------------------------------------

    def message(self, approval: Approval) -> dict[str, Any]:
        """The message (``text`` + ``blocks``) for the request as it is now."""
        requester = approval.requester
        view = {
            "id": approval.id,
            "url": f"{self.settings.base_url}/desk/approvals",
            "subject": approval.subject,
            "council": self._council(approval.council),
            "requester": requester.display_name or requester.email,
            "asked_in": ASKED_IN.get(approval.channel, approval.channel),
            "requested": local_time(approval.requested_at),
            "expires": local_time(approval.expires_at),
            "pending": approval.status == PENDING,
            "outcome_note": outcome_note(approval),
        }
        rendered = self.env.get_template("slack/approval.json.j2").render(
            a=view,
            block_id=f"{BLOCK_PREFIX}{approval.id}",
            actions={verb: f"{jobs.TRIAGE_ACTION_PREFIX}{verb}" for verb in VERBS},
        )
        data: dict[str, Any] = json.loads(rendered)
        return {"text": data["text"], "blocks": data["blocks"]}

    def _council(self, key: str) -> str:
        try:
            return self.settings.council(key).name
        except KeyError:
            return key

    # -- helpers ------------------------------------------------------------------------

    async def _approval(self, session: AsyncSession, row: OutboxMessage) -> Approval:
        approval_id = row.payload.get("approval_id")
        approval = (
            await self.desk.approvals.get(session, approval_id)
            if isinstance(approval_id, int)
            else None
        )
        if approval is None:
            raise Skip("the approval request no longer exists")
        return approval

    async def _find_posted(self, approval: Approval) -> tuple[str, str] | None:
        """The request's message, if an earlier attempt posted it but did not record it."""
        assert self.channel is not None
        oldest = f"{approval.requested_at.timestamp() - 60:.6f}"
        cursor: str | None = None
        for _ in range(10):
            response = await self.client.conversations_history(
                channel=self.channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for found in response.get("messages") or ():
                metadata = found.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and payload.get("approval_id") == approval.id
                ):
                    return self.channel, str(found["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None


def outcome_note(approval: Approval) -> str:
    """Who decided what, and when: ``:white_check_mark: Approved by Pat Singh, Mon 30 Nov 09:05``
    (escaped by the template)."""
    decider = approval.decided_by
    who = (decider.display_name or decider.email) if decider is not None else "an agent"
    at = local_time(approval.decided_at or approval.expires_at)
    if approval.status == APPROVED:
        return f":white_check_mark: Approved by {who}, {at}"
    if approval.status == DENIED:
        return f":no_entry: Denied by {who}, {at}"
    if approval.status == EXPIRED:
        return f":hourglass: Expired {at}: nobody decided in time. Nothing was changed."
    return ""
