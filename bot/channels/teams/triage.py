"""The agents' triage channel in Teams: one card per ticket, kept up to date.

Each ticket gets a new thread in the triage channel (``ITBOT_TEAMS_TRIAGE_CHANNEL``) that
starts with its card: reference, council, summary, priority, status, SLA due, and Claim /
Assign / Resolve. Teams subscribes to the desk's events under the destination ``teams``
(:func:`subscribe`) and the handlers here deliver them with the outbox's retries (each
handler calls the Bot Connector once: a failure raises and the outbox tries again later)::

    Desk change ─(one transaction)→ ticket + event rows ─→ TeamsTriage.post/update/relay
    agent: button or thread reply ─→ /api/messages ─→ TriageActions ─→ Desk change

What agents do there is :mod:`bot.channels.teams.agents`. The Bot Connector has no way to
look for a card an earlier attempt posted but did not record (a crash between the two):
then a second card may be posted, and the first one stays as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.teams import wording as teams_wording
from bot.channels.teams.connector import Connector
from bot.desk import outbox
from bot.desk.approvals import local_time
from bot.desk.events import COMMENT_ADDED, TICKET_CHANGED, TICKET_CREATED, Events
from bot.desk.outbox import Handler, Skip
from bot.desk.service import Desk
from bot.desk.tickets import OPEN_STATUSES, OutboxMessage, Ticket, TicketComment
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage import teams_threads
from bot.storage.models import utcnow

#: the outbox destination of Teams' rows
DESTINATION = "teams"
CARD = "application/vnd.microsoft.card.adaptive"
#: the keys of a card button's data: what was pressed, on which ticket, and whom to assign
VERB_KEY = "itbot_triage"
REF_KEY = "ref"
ASSIGNEE_KEY = "itbot_assignee"
#: the agents offered by Assign (an Adaptive Card choice set stays usable up to about this)
MAX_AGENTS = 100
STATUS_LABEL = {
    "new": "New",
    "open": "Open",
    "pending": "Pending requester",
    "resolved": "Resolved",
    "closed": "Closed",
}


def subscribe(events: Events, settings: Settings) -> None:
    """Teams' subscriptions, when it has a triage channel to post to."""
    if not settings.teams_triage_enabled:
        return
    events.subscribe(DESTINATION, TICKET_CREATED, TICKET_CHANGED)
    events.subscribe(DESTINATION, COMMENT_ADDED, when=lambda p: p.get("role") == "requester")


class NotYet(Exception):
    """The ticket's card isn't posted yet: the outbox tries again shortly."""

    retry_after = 2


class TeamsTriage:
    """The ``teams`` destination's outbox handlers: the triage channel's cards."""

    def __init__(
        self,
        *,
        settings: Settings,
        desk: Desk,
        connector: Connector,
        env: Environment,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        assert settings.teams_triage_channel is not None
        self.settings = settings
        self.desk = desk
        self.connector = connector
        self.env = env
        self.clock = clock
        self.channel = settings.teams_triage_channel
        self.service_url = settings.teams_triage_service_url

    def handlers(self) -> dict[str, Handler]:
        return {TICKET_CREATED: self.post, TICKET_CHANGED: self.update, COMMENT_ADDED: self.relay}

    def is_triage(self, conversation_id: str) -> bool:
        """Whether ``conversation_id`` is the triage channel or one of its threads."""
        return conversation_id.split(";", 1)[0] == self.channel

    # -- outbox handlers ----------------------------------------------------------------

    async def post(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``ticket_created``: the ticket's card, a new thread in the triage channel."""
        ticket = await _ticket(session, row)
        posted = await teams_threads.of_ticket(session, ticket.id)
        if posted is not None:
            await self._update(session, ticket, posted)
            return
        activity = await self.activity(session, ticket)
        conversation, activity_id = await self.connector.start_thread(
            self.service_url,
            self.channel,
            activity,
            tenant_id=self.settings.teams_tenant_id,
            retry=False,
        )
        await teams_threads.remember(
            session,
            ticket_id=ticket.id,
            conversation_id=conversation,
            activity_id=activity_id,
            service_url=self.service_url,
            now=self.clock(),
        )

    async def update(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``ticket_changed``: the card shows the ticket as it is now."""
        ticket = await _ticket(session, row)
        await self._update(session, ticket, await self._require_posted(session, ticket))

    async def relay(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``comment_added`` by the requester: their comment, in the ticket's thread."""
        ticket = await _ticket(session, row)
        comment = await session.get(TicketComment, row.payload.get("comment") or 0)
        if comment is None:
            raise Skip("the comment no longer exists")
        posted = await self._require_posted(session, ticket)
        heading = teams_wording.REQUESTER_WROTE.format(name=comment.author_name or "The requester")
        card = {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": heading, "weight": "Bolder", "wrap": True},
                {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": comment.body}]},
            ],
        }
        activity = {
            "type": "message",
            "summary": f"{heading} {comment.body[:200]}",
            "attachments": [{"contentType": CARD, "content": card}],
        }
        await self.connector.send(posted.service_url, posted.conversation_id, activity, retry=False)

    # -- rendering ----------------------------------------------------------------------

    async def activity(self, session: AsyncSession, ticket: Ticket) -> dict[str, Any]:
        """The card's message activity for the ticket as it is now."""
        agents = [
            (str(staff.id), staff.display_name or staff.email)
            for staff in await staff_repo.agents(session, limit=MAX_AGENTS)
        ]
        rendered = self.env.get_template("teams/triage.json.j2").render(
            t=self._view(ticket),
            agents=agents,
            verb_key=VERB_KEY,
            ref_key=REF_KEY,
            assignee_key=ASSIGNEE_KEY,
        )
        data = json.loads(rendered)
        return {
            "type": "message",
            "summary": data["text"],
            "attachments": [{"contentType": CARD, "content": data["card"]}],
        }

    def _view(self, ticket: Ticket) -> dict[str, Any]:
        now = self.clock()
        policy = self.desk.policy
        is_open = ticket.status in OPEN_STATUSES
        sla: list[str] = []
        if ticket.status == "pending" and ticket.sla_paused_at is not None:
            now = ticket.sla_paused_at  # the clocks stand where the pause began
            sla.append(teams_wording.SLA_PAUSED)
        if is_open:
            clocks = [("resolution", ticket.resolution_due)]
            if ticket.first_response_at is None:
                clocks.insert(0, ("response", ticket.response_due))
            for name, due in clocks:
                state = policy.clock(opened=ticket.created_at, due=due, now=now, done_at=None)
                if state in ("at_risk", "breached"):
                    line = teams_wording.SLA_ALERT[f"{name}_{state}"]
                    sla.append(line.format(due=local_time(due)))
        done = ticket.resolved_at or ticket.closed_at
        done_note = STATUS_LABEL.get(ticket.status, ticket.status)
        if done is not None:
            done_note += f" {local_time(done)}"
        if ticket.assignee is not None:
            done_note += f" · {ticket.assignee.display_name or ticket.assignee.email}"
        if ticket.csat_score is not None:
            done_note += f" · rated {ticket.csat_score}/5"
        assignee = ticket.assignee
        return {
            "ref": ticket.ref,
            "url": f"{self.settings.base_url}/desk/tickets/{ticket.ref}",
            "summary": ticket.summary,
            "council": self._council(ticket),
            "priority": ticket.priority,
            "status": STATUS_LABEL.get(ticket.status, ticket.status),
            "requester": ticket.requester.display_name or ticket.requester.email,
            "assignee": (assignee.display_name or assignee.email) if assignee else "",
            "response_due": local_time(ticket.response_due)
            if ticket.first_response_at is None
            else f"answered {local_time(ticket.first_response_at)}",
            "resolution_due": local_time(ticket.resolution_due),
            "sla": sla,
            "open": is_open,
            "done_note": done_note,
        }

    def _council(self, ticket: Ticket) -> str:
        try:
            return self.settings.council(ticket.council).name
        except KeyError:
            return ticket.council

    # -- helpers ------------------------------------------------------------------------

    async def _update(
        self, session: AsyncSession, ticket: Ticket, posted: teams_threads.TeamsTicketThread
    ) -> None:
        activity = await self.activity(session, ticket)
        await self.connector.update(
            posted.service_url, posted.conversation_id, posted.activity_id, activity, retry=False
        )

    async def _require_posted(
        self, session: AsyncSession, ticket: Ticket
    ) -> teams_threads.TeamsTicketThread:
        """Where the ticket's card is; wait for its ``ticket_created`` row if it's still to
        be posted, skip if there never will be a card."""
        posted = await teams_threads.of_ticket(session, ticket.id)
        if posted is not None:
            return posted
        if await outbox.waiting(session, ticket.id, kind=TICKET_CREATED, destination=DESTINATION):
            raise NotYet(f"{ticket.ref}: its triage card is not posted yet")
        raise Skip(f"{ticket.ref} has no triage card (raised before triage was set up)")


async def _ticket(session: AsyncSession, row: OutboxMessage) -> Ticket:
    ticket = await session.get(Ticket, row.ticket_id) if row.ticket_id else None
    if ticket is None:
        raise Skip("the ticket no longer exists")
    return ticket
