"""The agents' triage channel in Slack: one message per ticket, kept up to date.

Each ticket gets one message in the triage channel (``ITBOT_SLACK_TRIAGE_CHANNEL``):
summary, council, priority, SLA due, and Claim / Assign / Set priority / Resolve. Slack
subscribes to the desk's events under the destination ``slack`` (:func:`subscribe`) and
the handlers here deliver them, with the outbox's retries::

    Desk change ─(one transaction)→ ticket + event rows ─→ Triage.post/update/relay/alert
    agent: button or thread reply ─→ inbox ─→ worker ─→ AgentActions.handle ─→ Desk change
    requester: reply in a notification's DM thread ─→ AgentActions.requester_reply ─→ comment

What agents do there is :mod:`bot.channels.slack.controls`; who is an agent is
:mod:`bot.channels.slack.agents`; the requester's DMs are :mod:`bot.channels.slack.requester`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jinja2 import Environment
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.slack import jobs, threads
from bot.channels.slack.threads import esc, local_time
from bot.desk import outbox
from bot.desk.events import COMMENT_ADDED, SLA_ALERT, TICKET_CHANGED, TICKET_CREATED, Events
from bot.desk.outbox import Handler, Skip
from bot.desk.service import Desk
from bot.desk.sla import PRIORITY_MEANING
from bot.desk.tickets import OPEN_STATUSES, OutboxMessage, Ticket, TicketComment
from bot.settings import Settings
from bot.storage import slack_threads
from bot.storage.models import utcnow

#: the outbox destination of Slack's rows
DESTINATION = "slack"
#: the metadata every triage message carries, to find it again after a crash mid-post
METADATA_EVENT = "itbot_ticket"
STATUS_LABEL = {
    "new": "New",
    "open": "Open",
    "pending": "Pending requester",
    "resolved": "Resolved",
    "closed": "Closed",
}
PAUSED_TEXT = ":double_vertical_bar: SLA clocks paused: waiting for the requester"
ALERT_TEXT = {
    "response_at_risk": ":warning: First response due soon (by {response_due})",
    "response_breached": ":red_circle: First response overdue (was due {response_due})",
    "resolution_at_risk": ":warning: Resolution due soon (by {resolution_due})",
    "resolution_breached": ":red_circle: Resolution overdue (was due {resolution_due})",
}
#: of two alerts for one clock that fall due together, only the graver one is posted
_GRAVER = {"response_at_risk": "response_breached", "resolution_at_risk": "resolution_breached"}


def subscribe(events: Events, settings: Settings) -> None:
    """Slack's subscriptions, when it has a triage channel to post to."""
    if not (settings.slack_enabled and settings.slack_triage_channel):
        return
    events.subscribe(DESTINATION, TICKET_CREATED, TICKET_CHANGED, SLA_ALERT)
    events.subscribe(DESTINATION, COMMENT_ADDED, when=lambda p: p.get("role") == "requester")


class NotYet(Exception):
    """The ticket's triage message isn't posted yet: the outbox tries again shortly."""

    retry_after = 2


class Triage:
    """The ``slack`` destination's outbox handlers: the triage channel's messages."""

    def __init__(
        self,
        *,
        settings: Settings,
        desk: Desk,
        client: AsyncWebClient,
        env: Environment,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.desk = desk
        self.client = client
        self.env = env
        self.clock = clock
        self.channel = settings.slack_triage_channel

    def handlers(self) -> dict[str, Handler]:
        return {
            TICKET_CREATED: self.post,
            TICKET_CHANGED: self.update,
            COMMENT_ADDED: self.relay,
            SLA_ALERT: self.alert,
        }

    # -- outbox handlers ----------------------------------------------------------------

    async def post(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``ticket_created``: the ticket's message in the triage channel, once."""
        ticket = await self._ticket(session, row)
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        posted = await slack_threads.triage_message(session, ticket.id)
        if posted is not None:
            await self._update(ticket, posted)
            return
        message = self.message(ticket)
        found = await self._find_posted(ticket) if row.attempts else None
        if found is not None:
            channel, ts = found
            await self.client.chat_update(channel=channel, ts=ts, **message)
        else:
            response = await self.client.chat_postMessage(
                channel=self.channel,
                **message,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"ref": ticket.ref}},
                unfurl_links=False,
                unfurl_media=False,
            )
            channel, ts = str(response["channel"]), str(response["ts"])
        await slack_threads.remember(session, ticket.id, channel, ts, "triage")

    async def update(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``ticket_changed``: the message shows the ticket as it is now."""
        ticket = await self._ticket(session, row)
        await self._update(ticket, await self._require_posted(session, ticket))

    async def relay(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``comment_added`` by the requester: their comment, in the ticket's triage thread."""
        ticket = await self._ticket(session, row)
        comment = await session.get(TicketComment, row.payload.get("comment") or 0)
        if comment is None:
            raise Skip("the comment no longer exists")
        channel, thread = await self._require_posted(session, ticket)
        key = f"comment:{comment.id}"
        if row.attempts and await threads.delivered(self.client, channel, key, thread_ts=thread):
            return  # an earlier attempt posted it, then failed before recording that
        text = f"*{esc(comment.author_name)}* (requester) wrote:\n{threads.quote(comment.body)}"
        await self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=text,
            metadata=threads.delivery(key),
            unfurl_links=False,
            unfurl_media=False,
        )

    async def alert(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``sla_alert``: at risk / breached, posted once, in the thread and the channel."""
        ticket = await self._ticket(session, row)
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        alerts = [str(a) for a in row.payload.get("alerts") or ()]
        shown = [a for a in alerts if _GRAVER.get(a) not in alerts]
        if not shown:
            raise Skip("no alert to show")
        due = {
            "response_due": local_time(ticket.response_due),
            "resolution_due": local_time(ticket.resolution_due),
        }
        lines = [ALERT_TEXT[a].format(**due) for a in shown if a in ALERT_TEXT]
        owner = ticket.assignee.display_name if ticket.assignee else "nobody yet"
        text = (
            f"*{ticket.ref}* · {ticket.priority} · {esc(self._council(ticket))}: "
            f"{esc(ticket.summary)}\n" + "\n".join(lines) + f"\nAssigned to {esc(owner)}."
        )
        posted = await slack_threads.triage_message(session, ticket.id)
        if posted is not None:
            await self.client.chat_postMessage(
                channel=posted[0],
                thread_ts=posted[1],
                reply_broadcast=True,  # seen in the channel, kept with the ticket's thread
                text=text,
            )
        else:
            await self.client.chat_postMessage(channel=self.channel, text=text)

    # -- rendering ----------------------------------------------------------------------

    def message(self, ticket: Ticket) -> dict[str, Any]:
        """The triage message (``text`` + ``blocks``) for the ticket as it is now."""
        now = self.clock()
        policy = self.desk.policy
        is_open = ticket.status in OPEN_STATUSES
        sla: list[str] = []
        if ticket.status == "pending" and ticket.sla_paused_at is not None:
            now = ticket.sla_paused_at  # the clocks stand where the pause began
            sla.append(PAUSED_TEXT)
        if is_open:
            if ticket.first_response_at is None:
                state = policy.clock(
                    opened=ticket.created_at, due=ticket.response_due, now=now, done_at=None
                )
                if state in ("at_risk", "breached"):
                    sla.append(ALERT_TEXT[f"response_{state}"])
            state = policy.clock(
                opened=ticket.created_at, due=ticket.resolution_due, now=now, done_at=None
            )
            if state in ("at_risk", "breached"):
                sla.append(ALERT_TEXT[f"resolution_{state}"])
        due = {
            "response_due": local_time(ticket.response_due),
            "resolution_due": local_time(ticket.resolution_due),
        }
        done = ticket.resolved_at or ticket.closed_at
        done_note = STATUS_LABEL.get(ticket.status, ticket.status)
        if done is not None:
            done_note += f" {local_time(done)}"
        if ticket.assignee is not None:
            done_note += f" · {ticket.assignee.display_name}"
        if ticket.csat_score is not None:
            done_note += f" · rated {ticket.csat_score}/5"
        view = {
            "ref": ticket.ref,
            "url": f"{self.settings.base_url}/desk/tickets/{ticket.ref}",
            "summary": ticket.summary,
            "council": self._council(ticket),
            "priority": ticket.priority,
            "status": STATUS_LABEL.get(ticket.status, ticket.status),
            "requester": ticket.requester.display_name or ticket.requester.email,
            "assignee": ticket.assignee.display_name if ticket.assignee else "",
            "assignee_slack": (ticket.assignee.slack_user_id or "") if ticket.assignee else "",
            "response_due": due["response_due"]
            if ticket.first_response_at is None
            else f"answered {local_time(ticket.first_response_at)}",
            "resolution_due": due["resolution_due"],
            "sla": [line.format(**due) for line in sla],
            "open": is_open,
            "done_note": done_note,
        }
        actions = {
            verb: f"{jobs.TRIAGE_ACTION_PREFIX}{verb}"
            for verb in ("claim", "assign", "priority", "resolve")
        }
        rendered = self.env.get_template("slack/triage.json.j2").render(
            t=view,
            priorities=list(PRIORITY_MEANING.items()),
            block_id=f"{jobs.TRIAGE_BLOCK_PREFIX}{ticket.ref}",
            actions=actions,
        )
        data: dict[str, Any] = json.loads(rendered)
        return {"text": data["text"], "blocks": data["blocks"]}

    def _council(self, ticket: Ticket) -> str:
        try:
            return self.settings.council(ticket.council).name
        except KeyError:
            return ticket.council

    # -- helpers ------------------------------------------------------------------------

    async def _ticket(self, session: AsyncSession, row: OutboxMessage) -> Ticket:
        ticket = await session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None:
            raise Skip("the ticket no longer exists")
        return ticket

    async def _update(self, ticket: Ticket, posted: tuple[str, str]) -> None:
        await self.client.chat_update(channel=posted[0], ts=posted[1], **self.message(ticket))

    async def _require_posted(self, session: AsyncSession, ticket: Ticket) -> tuple[str, str]:
        """Where the ticket's message is; wait for its ``ticket_created`` row if it's still
        to be posted, skip if there never will be a message."""
        posted = await slack_threads.triage_message(session, ticket.id)
        if posted is not None:
            return posted
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        if await outbox.waiting(session, ticket.id, kind=TICKET_CREATED, destination=DESTINATION):
            raise NotYet(f"{ticket.ref}: its triage message is not posted yet")
        raise Skip(f"{ticket.ref} has no triage message (raised before triage was set up)")

    async def _find_posted(self, ticket: Ticket) -> tuple[str, str] | None:
        """The ticket's message, if an earlier attempt posted it but did not record it."""
        assert self.channel is not None
        oldest = f"{ticket.created_at.timestamp() - 60:.6f}"
        cursor: str | None = None
        for _ in range(10):
            response = await self.client.conversations_history(
                channel=self.channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages") or ():
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and payload.get("ref") == ticket.ref
                ):
                    return self.channel, str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None
