"""What agents do in the Teams triage channel: the card's buttons and thread replies.

A press of Claim / Assign / Resolve on a ticket's card, or a reply in the card's thread
(the bot is @mentioned, as Teams only passes on channel messages that mention it), comes
to ``/api/messages`` like any activity: the Bot Connector's token is checked and the
member lookup says who pressed or wrote (:mod:`~bot.channels.teams.identity`) — never a
name or address typed anywhere. Only service desk agents (``Staff.is_agent``: ``itbot desk
add-agent``, ``ITBOT_DESK_AGENTS``) may act; anyone else is told so politely in the thread
and nothing changes. Changes go through the desk's domain API, as Slack's controls do; the
desk's ``ticket_changed`` event then updates the card (:mod:`~bot.channels.teams.triage`).

A reply in the thread reaches the requester as the agent's comment; one starting with
``internal:`` stays an internal note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.teams import wording as teams_wording
from bot.channels.teams.identity import TeamsPerson
from bot.channels.teams.triage import ASSIGNEE_KEY, REF_KEY, VERB_KEY
from bot.desk import agents
from bot.desk.actor import Actor
from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.service import Desk
from bot.desk.tickets import Ticket
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage import teams_threads
from bot.storage.models import Staff, utcnow

if TYPE_CHECKING:
    from bot.storage import Database

INTERNAL_PREFIX = "internal:"
VERBS = ("claim", "assign", "resolve")


def press_of(value: object) -> Mapping[str, Any] | None:
    """A triage card's button data (``{itbot_triage: verb, ref, …}``), else ``None``."""
    if isinstance(value, dict) and isinstance(value.get(VERB_KEY), str):
        return value
    return None


class TriageActions:
    """Agents' presses on triage cards and their replies in the cards' threads."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        desk: Desk,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.desk = desk
        self.clock = clock

    async def press(self, value: Mapping[str, Any], person: TeamsPerson) -> str:
        """A button on a ticket's card: what to say in the thread ("" when the card's
        update says it all)."""
        verb = str(value.get(VERB_KEY) or "")
        ref = str(value.get(REF_KEY) or "")[:40]
        async with self.db.session() as session, session.begin():
            staff = await self._staff(session, person)
            if not self._is_agent(staff):
                return teams_wording.NOT_AN_AGENT.format(name=_first(staff), ref=ref or "it")
            if verb not in VERBS:
                return teams_wording.UNKNOWN_CONTROL
            ticket = await self.desk.get(session, ref) if ref else None
            if ticket is None:
                return teams_wording.NO_TICKET.format(ref=ref or "that ticket")
            return await self._act(session, ticket, verb, staff, value.get(ASSIGNEE_KEY))

    async def reply(
        self, conversation_id: str, activity_id: str, text: str, person: TeamsPerson
    ) -> str | None:
        """A message in a ticket's thread: the agent's comment on the ticket. ``None`` when
        the thread is not a ticket's (the message is answered like any other)."""
        async with self.db.session() as session, session.begin():
            thread = await teams_threads.by_conversation(session, conversation_id)
            if thread is None:
                return None
            ticket = await session.get(Ticket, thread.ticket_id)
            if ticket is None:
                return None
            staff = await self._staff(session, person)
            if not self._is_agent(staff):
                return teams_wording.NOT_AN_AGENT_REPLY.format(name=_first(staff))
            internal = text.lower().startswith(INTERNAL_PREFIX)
            body = text[len(INTERNAL_PREFIX) :].strip() if internal else text.strip()
            if not body:
                return ""
            try:
                await self.desk.comment(
                    session,
                    ticket,
                    Actor.of(staff),
                    body,
                    now=self.clock(),
                    public=not internal,
                    via="teams",
                    external_key=f"teams:{activity_id}"[:200] if activity_id else None,
                )
            except (InvalidChange, NotAllowed) as exc:
                return str(exc)
            if internal:
                return teams_wording.KEPT_INTERNAL.format(ref=ticket.ref)
            requester = ticket.requester.display_name or ticket.requester.email
            return teams_wording.PASSED_ON.format(name=requester, ref=ticket.ref)

    async def _act(
        self, session: AsyncSession, ticket: Ticket, verb: str, staff: Staff, chosen: object
    ) -> str:
        now = self.clock()
        actor = Actor.of(staff)
        try:
            if verb == "claim":
                await self.desk.claim(session, ticket, actor, now=now)
            elif verb == "assign":
                assignee = await self._assignee(session, chosen)
                if assignee is None:
                    return teams_wording.NOT_ASSIGNABLE.format(ref=ticket.ref)
                await self.desk.assign(session, ticket, actor, assignee, now=now)
            else:
                await self.desk.set_status(session, ticket, actor, "resolved", now=now)
        except (InvalidChange, NotAllowed) as exc:
            return str(exc)
        return ""  # the desk wrote a ticket_changed event: the card changes for everyone

    async def _assignee(self, session: AsyncSession, chosen: object) -> Staff | None:
        """The agent picked in Assign's list (by staff id); ``None`` unless an agent."""
        raw = str(chosen or "").strip()
        staff = await session.get(Staff, int(raw)) if raw.isdigit() and len(raw) < 12 else None
        return staff if staff is not None and self._is_agent(staff) else None

    def _is_agent(self, staff: Staff) -> bool:
        if staff.email in self.settings.desk_agents:
            agents.grant(staff, agents.SETTINGS)
        return staff.is_agent

    async def _staff(self, session: AsyncSession, person: TeamsPerson) -> Staff:
        """The presser's staff record, from the member lookup's proven email."""
        assert person.email is not None and person.council is not None
        return await staff_repo.get_or_create(
            session,
            email=person.email,
            council=person.council.key,
            display_name=person.display_name,
        )


def _first(staff: Staff) -> str:
    name = (staff.display_name or "").split()
    return name[0] if name else "there"
