"""The desk's domain API: raise, comment, claim, assign, prioritise, resolve, close, reopen.

Every change names its :class:`~bot.desk.actor.Actor` and writes a :class:`TicketEvent`,
agent actions go to the audit log, and work that must follow the change (notify the
requester, update the triage message, mirror to an external desk) is announced as a
channel-neutral event (``bot.desk.events``) to whoever subscribed, written to the
outbox in the same transaction (:mod:`bot.desk.recording`). The read side is
:mod:`bot.desk.reading`, the SLA alert sweep :mod:`bot.desk.alerts`.

>>> async with db.session() as s, s.begin():                     # doctest: +SKIP
...     ticket = await desk.raise_ticket(s, requester=staff, summary="Printer jammed",
...                                      category="device", priority="P3", now=now)
...     await desk.set_status(s, ticket, Actor.of(agent), "resolved", now=now)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.desk import activity, sla
from bot.desk.actor import (
    SYSTEM,
    Actor,
    require_agent,
    require_commenter,
    require_requester,
    require_status_change,
)
from bot.desk.alerts import SlaAlerts
from bot.desk.approvals import Approvals
from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.events import (
    COMMENT_ADDED,
    CSAT_REQUESTED,
    STATUS_CHANGED,
    TICKET_ASSIGNED,
    TICKET_CHANGED,
    TICKET_CREATED,
    Events,
)
from bot.desk.notices import Notices
from bot.desk.numbering import insert_numbered, ref_for
from bot.desk.reading import TicketReader
from bot.desk.sla import PRIORITIES, SlaPolicy
from bot.desk.spikes import Spikes
from bot.desk.tickets import (
    CATEGORIES,
    OPEN_STATUSES,
    STATUSES,
    Ticket,
    TicketComment,
    TicketEvent,
)
from bot.redaction import redact, redact_values
from bot.storage.models import Staff

__all__ = ["REOPEN_WINDOW_DAYS", "SYSTEM", "Actor", "Desk"]

REOPEN_WINDOW_DAYS = 5


@dataclass
class Desk(TicketReader, SlaAlerts):
    """The built-in service desk."""

    policy: SlaPolicy = field(default_factory=SlaPolicy.default)
    prefix: str = "JSD"
    #: who listens to the desk's events (channels, the requester's notifier, an external desk)
    listeners: Events = field(default_factory=Events)
    #: working hours an approval request waits before it expires (``ITBOT_APPROVAL_HOURS``)
    approval_hours: float = 1.0
    #: distinct people whose similar reports within ``spike_minutes`` make a spike
    #: (``ITBOT_SPIKE_REPORTS``, ``ITBOT_SPIKE_MINUTES``)
    spike_reports: int = 5
    spike_minutes: int = 15

    @cached_property
    def approvals(self) -> Approvals:
        """The approvals queue: on the desk's calendar, announcing to the same listeners."""
        return Approvals(
            calendar=self.policy.calendar, hours=self.approval_hours, listeners=self.listeners
        )

    @cached_property
    def spikes(self) -> Spikes:
        """The spike check every raised ticket passes through, announcing to the listeners."""
        return Spikes(
            reports=self.spike_reports, minutes=self.spike_minutes, listeners=self.listeners
        )

    @cached_property
    def notices(self) -> Notices:
        """The service notices, announcing to the same listeners."""
        return Notices(listeners=self.listeners)

    def ref_for(self, ticket_id: int) -> str:
        return ref_for(self.prefix, ticket_id)

    # -- raising ----------------------------------------------------------------------------

    async def raise_ticket(
        self,
        session: AsyncSession,
        *,
        requester: Staff,
        summary: str,
        category: str,
        priority: str,
        now: datetime,
        description: str = "",
        impact: str = "",
        transcript: Sequence[dict[str, Any]] = (),
        reply_channel: str = "web",
        reply_thread: str = "",
        source: str = "chat",
    ) -> Ticket:
        # a secret typed into a problem description never reaches the desk, triage or a remote
        summary = redact(" ".join(summary.split()))[:200]
        description, impact = redact(description), redact(impact)
        transcript = [redact_values(turn) for turn in transcript]
        if not summary:
            raise InvalidChange("A ticket needs a short summary of the problem.")
        if category not in CATEGORIES:
            raise InvalidChange(f"Category must be one of {', '.join(CATEGORIES)}.")
        if priority not in PRIORITIES:
            raise InvalidChange(f"Priority must be one of {', '.join(PRIORITIES)}.")
        clocks = self.policy.clocks(priority, now)
        ticket = Ticket(
            requester_id=requester.id,
            council=requester.council,
            category=category,
            priority=priority,
            status="new",
            summary=summary,
            description=description,
            impact=impact,
            transcript=list(transcript),
            reply_channel=reply_channel,
            reply_thread=reply_thread,
            source=source,
            created_at=now,
            updated_at=now,
            response_due=clocks.response_due,
            resolution_due=clocks.resolution_due,
            response_risk_at=clocks.response_risk_at,
            resolution_risk_at=clocks.resolution_risk_at,
            sla_alerts=[],
            sla_next_alert_at=clocks.response_risk_at,
        )
        if session.get_bind().dialect.name == "postgresql":
            ticket = await insert_numbered(session, ticket, self.prefix)
        else:
            session.add(ticket)
            await session.flush()
            ticket.ref = self.ref_for(ticket.id)
        set_committed_value(ticket, "requester", requester)
        set_committed_value(ticket, "assignee", None)
        # the event and outbox rows wait for the next flush, which writes them in one
        # statement each for every ticket raised in the transaction
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                created_at=now,
                actor=requester.email,
                kind="created",
                details={"priority": priority, "category": category},
            )
        )
        self._emit(session, ticket, TICKET_CREATED, now)
        return ticket

    # -- changing ---------------------------------------------------------------------------

    async def comment(
        self,
        session: AsyncSession,
        ticket: Ticket,
        actor: Actor,
        body: str,
        *,
        now: datetime,
        public: bool = True,
        via: str = "chat",
        external_key: str | None = None,
    ) -> TicketComment | None:
        """Add a comment; ``None`` if a comment with ``external_key`` is already there.

        A requester's comments are always public; one on a pending ticket reopens it.
        """
        body = redact(body.strip())
        if not body:
            raise InvalidChange("A comment needs some text.")
        if external_key is not None:
            seen = await session.execute(
                select(TicketComment.id).where(TicketComment.external_key == external_key)
            )
            if seen.first() is not None:
                return None
        role = require_commenter(actor, ticket)
        public = public or role == "requester"
        comment = TicketComment(
            ticket_id=ticket.id,
            author_id=actor.staff_id,
            author_name=actor.name,
            author_role=role,
            body=body,
            public=public,
            via=via,
            external_key=external_key,
            created_at=now,
        )
        session.add(comment)
        await session.flush()
        self._event(session, ticket, actor, "commented", now, public=public, comment=comment.id)
        if role in ("agent", "remote") and public and ticket.first_response_at is None:
            ticket.first_response_at = now
        if role == "requester" and ticket.status == "pending":
            self._move(session, ticket, "open", now)
        self._emit(
            session,
            ticket,
            COMMENT_ADDED,
            now,
            comment=comment.id,
            role=role,
            public=public,
            via=via,
        )
        self._emit(session, ticket, TICKET_CHANGED, now)
        return comment

    async def claim(
        self, session: AsyncSession, ticket: Ticket, agent: Actor, *, now: datetime
    ) -> None:
        """The agent takes the ticket on themselves."""
        require_agent(agent)
        me = await session.get(Staff, agent.staff_id) if agent.staff_id is not None else None
        if me is None:
            raise NotAllowed("Only service desk agents can do that.")
        await self.assign(session, ticket, agent, me, now=now)

    async def assign(
        self, session: AsyncSession, ticket: Ticket, agent: Actor, assignee: Staff, *, now: datetime
    ) -> None:
        require_agent(agent)
        if not assignee.is_agent:
            raise InvalidChange(f"{assignee.email} is not a service desk agent.")
        self._require_open(ticket)
        before = ticket.assignee.email if ticket.assignee else None
        ticket.assignee_id = assignee.id
        ticket.assignee = assignee
        if ticket.status == "new":
            ticket.status = "open"
        await self._agent_change(
            session, ticket, agent, "assigned", now, before=before, after=assignee.email
        )
        self._emit(session, ticket, TICKET_ASSIGNED, now, assignee=assignee.email)

    async def set_priority(
        self, session: AsyncSession, ticket: Ticket, agent: Actor, priority: str, *, now: datetime
    ) -> None:
        """New targets count from the start, plus the working time the clocks stood paused."""
        require_agent(agent)
        self._require_open(ticket)
        if priority not in PRIORITIES:
            raise InvalidChange(f"Priority must be one of {', '.join(PRIORITIES)}.")
        before = ticket.priority
        ticket.priority = priority
        sla.set_clocks(ticket, self.policy.clocks(priority, ticket.created_at))
        held = timedelta(seconds=ticket.sla_paused_seconds or 0)
        sla.move_on(ticket, held, self.policy.calendar)
        ticket.sla_alerts = []
        ticket.sla_next_alert_at = self.next_sla_alert(ticket)
        await self._agent_change(
            session, ticket, agent, "priority", now, before=before, after=priority
        )

    async def set_status(
        self,
        session: AsyncSession,
        ticket: Ticket,
        actor: Actor,
        status: str,
        *,
        now: datetime,
        note: str = "",
    ) -> None:
        """Agents move tickets between any statuses; requesters may close or reopen their own."""
        if status not in STATUSES:
            raise InvalidChange(f"Status must be one of {', '.join(STATUSES)}.")
        if require_status_change(actor, ticket, status):
            self._check_reopen_window(ticket, now)
        if status != ticket.status:
            await self._transition(session, ticket, actor, status, now, note=note)

    async def confirm_solved(
        self, session: AsyncSession, ticket: Ticket, requester: Actor, *, now: datetime
    ) -> None:
        """The requester says it is fixed: resolved as by an agent's resolve (the rating is
        asked for, a reopen is possible within the window); nothing if it is done already."""
        if not requester.requested(ticket):
            raise NotAllowed("Only the person who raised the ticket can say it is solved.")
        if ticket.status not in ("resolved", "closed"):
            await self._transition(session, ticket, requester, "resolved", now)

    async def apply_remote_status(
        self, session: AsyncSession, ticket: Ticket, status: str, *, actor: Actor, now: datetime
    ) -> None:
        """A status change made in the external desk: recorded, and the requester told."""
        if status in STATUSES and status != ticket.status:
            await self._transition(session, ticket, actor, status, now, remote=True)

    async def rate(
        self,
        session: AsyncSession,
        ticket: Ticket,
        requester: Actor,
        score: int,
        *,
        now: datetime,
        comment: str = "",
    ) -> None:
        require_requester(requester, ticket)
        if not 1 <= score <= 5:
            raise InvalidChange("Please rate from 1 (poor) to 5 (excellent).")
        ticket.csat_score = score
        ticket.csat_comment = redact(comment.strip()) or None
        self._event(session, ticket, requester, "rated", now, score=score)
        self._emit(session, ticket, TICKET_CHANGED, now)  # the rating shows in triage

    # -- the status transition --------------------------------------------------------------

    async def _transition(
        self,
        session: AsyncSession,
        ticket: Ticket,
        actor: Actor,
        status: str,
        now: datetime,
        *,
        note: str = "",
        remote: bool = False,
    ) -> None:
        """Move ``ticket`` to ``status`` and write what follows: the note, the event, the
        audit entry (agents), and the outbox rows. A ``remote`` change came from the
        external desk, so nothing is sent back to it."""
        before = ticket.status
        self._move(session, ticket, status, now)
        await activity.reopened(session, ticket, before, now)  # counts against deflection
        if note:
            await self.comment(session, ticket, actor, note, now=now, via="desk")
        if remote:
            self._event(
                session, ticket, actor, "status", now, before=before, after=status, remote=True
            )
        else:
            if actor.is_agent:
                await self._agent_change(
                    session, ticket, actor, "status", now, before=before, after=status
                )
            else:
                self._event(session, ticket, actor, "status", now, before=before, after=status)
                self._emit(session, ticket, TICKET_CHANGED, now)
        self._emit(
            session, ticket, STATUS_CHANGED, now, status=status, before=before, remote=remote
        )
        if remote:
            self._emit(session, ticket, TICKET_CHANGED, now)
        if status == "resolved":
            self._emit(session, ticket, CSAT_REQUESTED, now)
        if status in ("resolved", "closed") and not remote:
            # the parent of a notice: the linked tickets go with it, everyone is told
            for child in await self.notices.parent_done(session, ticket, status, now=now):
                await self._transition(session, child, actor, status, now)

    def _move(self, session: AsyncSession, ticket: Ticket, status: str, now: datetime) -> None:
        """Set the status and its timestamps; stop or restart the SLA clocks to match."""
        before = ticket.status
        ticket.status = status
        if status == "resolved":
            ticket.resolved_at = now
        elif status == "closed":
            ticket.closed_at = now
            ticket.resolved_at = ticket.resolved_at or now
        else:
            ticket.resolved_at = ticket.closed_at = None
        held = sla.pause_or_resume(ticket, before, now, self.policy.calendar)
        if held is not None and held >= timedelta(minutes=1):  # worth a line in the history
            minutes = round(held.total_seconds() / 60)
            self._event(session, ticket, SYSTEM, "sla_resumed", now, paused_minutes=minutes)
        ticket.sla_next_alert_at = self.next_sla_alert(ticket)

    # -- helpers ----------------------------------------------------------------------------

    def can_reopen(self, ticket: Ticket, now: datetime) -> bool:
        done = ticket.resolved_at or ticket.closed_at
        if done is None:
            return False
        return self.policy.calendar.between(done, now) <= self.policy.calendar.working_days(
            REOPEN_WINDOW_DAYS
        )

    def _check_reopen_window(self, ticket: Ticket, now: datetime) -> None:
        if not self.can_reopen(ticket, now):
            raise NotAllowed(
                f"{ticket.ref} was closed more than {REOPEN_WINDOW_DAYS} working days ago; "
                "please raise a new ticket and mention it."
            )

    @staticmethod
    def _require_open(ticket: Ticket) -> None:
        if ticket.status not in OPEN_STATUSES:
            raise InvalidChange(f"{ticket.ref} is {ticket.status}; reopen it first.")
