"""The desk's domain API: raise, comment, claim, assign, prioritise, resolve, close, reopen.

Every change writes a :class:`TicketEvent`, agent actions go to the audit log, and the
change is announced as a channel-neutral event (``bot.desk.events``) into the outbox in
the same transaction; whoever subscribed (the requester's notifier, the Slack triage
channel, an external desk) delivers it from there.

>>> async with db.session() as s, s.begin():                     # doctest: +SKIP
...     ticket = await desk.raise_ticket(s, requester=staff, summary="Printer jammed",
...                                      category="device", priority="P3", now=now)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import (
    Insert,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    inspect,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.events import (
    COMMENT_ADDED,
    CSAT_REQUESTED,
    SLA_ALERT,
    STATUS_CHANGED,
    TICKET_ASSIGNED,
    TICKET_CHANGED,
    TICKET_CREATED,
    Events,
)
from bot.desk.models import (
    CATEGORIES,
    OPEN_STATUSES,
    RUNNING_STATUSES,
    STATUSES,
    Ticket,
    TicketComment,
    TicketEvent,
)
from bot.desk.queue import QueueFilter
from bot.desk.queue import page as queue_page
from bot.desk.sla import PRIORITIES, SlaPolicy, alert_schedule
from bot.redaction import redact
from bot.storage import audit
from bot.storage.models import Staff

REOPEN_WINDOW_DAYS = 5


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a requester, an agent, or the system."""

    email: str
    name: str
    staff_id: int | None = None
    is_agent: bool = False

    @classmethod
    def of(cls, staff: Staff) -> Actor:
        return cls(staff.email, staff.display_name, staff.id, staff.is_agent)


#: the columns the INSERT fills from the sequence
_NUMBERED = ("id", "ref")


@functools.cache
def _numbered_insert(prefix: str, columns: tuple[str, ...]) -> Insert:
    """``INSERT INTO tickets`` taking the id from the table's sequence (in a CTE) and
    formatting the reference from it in SQL exactly as :meth:`Desk.ref_for` does, so no
    UPDATE has to follow; ``columns`` are bound by name. Built once per shape."""
    sequence = func.pg_get_serial_sequence(Ticket.__tablename__, Ticket.id.key)
    new = select(func.nextval(sequence).label("id")).cte("new_ticket")
    digits = cast(new.c.id, Text)
    ref = literal(f"{prefix}-") + case(
        (new.c.id < 1_000_000, func.lpad(digits, 6, "0")), else_=digits
    )
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    values |= {"id": select(new.c.id).scalar_subquery(), "ref": select(ref).scalar_subquery()}
    return insert(Ticket).values(values).add_cte(new).returning(Ticket.id, Ticket.ref)


SYSTEM = Actor("system", "Joint ICT Service Desk")


@dataclass
class Desk:
    """The built-in service desk."""

    policy: SlaPolicy = field(default_factory=SlaPolicy.default)
    prefix: str = "JSD"
    #: who listens to the desk's events (channels, the requester's notifier, an external desk)
    listeners: Events = field(default_factory=Events)

    def ref_for(self, ticket_id: int) -> str:
        return f"{self.prefix}-{ticket_id:06d}"

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
            ticket = await self._insert_numbered(session, ticket)
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

    async def _insert_numbered(self, session: AsyncSession, ticket: Ticket) -> Ticket:
        """Write a new ticket with its id and reference in one statement (PostgreSQL).

        Pending rows are not flushed first (the INSERT needs none of them): they go out
        together at the next flush instead of one round trip each per ticket.
        """
        state = inspect(ticket)
        values: dict[str, Any] = {}
        for attr in state.mapper.column_attrs:
            column = attr.columns[0]
            if column.key in _NUMBERED:
                continue
            if attr.key in state.dict:
                values[attr.key] = state.dict[attr.key]
            elif column.default is None and column.server_default is None:
                values[attr.key] = None  # as a flush writes it
        connection = await session.connection()
        result = await connection.execute(_numbered_insert(self.prefix, tuple(values)), values)
        ticket.id, ticket.ref = result.one()
        written = result.last_inserted_params()  # with the columns' Python-side defaults
        assert isinstance(written, Mapping)  # one row
        for attr in state.mapper.column_attrs:
            if attr.key not in state.dict and attr.key in written:
                setattr(ticket, attr.key, written[attr.key])
        make_transient_to_detached(ticket)  # as if loaded: every attribute clean
        session.add(ticket)
        return ticket

    # -- finding ----------------------------------------------------------------------------

    async def get(self, session: AsyncSession, ref: str) -> Ticket | None:
        ref = ref.strip().upper()
        return (await session.execute(select(Ticket).where(Ticket.ref == ref))).scalar_one_or_none()

    async def for_requester(
        self, session: AsyncSession, staff_id: int, *, open_only: bool = True, limit: int = 20
    ) -> list[Ticket]:
        query = select(Ticket).where(Ticket.requester_id == staff_id)
        if open_only:
            query = query.where(Ticket.status.in_(OPEN_STATUSES))
        query = query.order_by(Ticket.created_at.desc()).limit(limit)
        return list((await session.execute(query)).scalars().all())

    async def similar_open(
        self, session: AsyncSession, staff_id: int, summary: str, *, threshold: float = 60
    ) -> list[Ticket]:
        """The requester's open tickets that look like the same problem, best first."""
        tickets = await self.for_requester(session, staff_id, open_only=True, limit=50)
        scored = [(fuzz.token_set_ratio(summary.lower(), t.summary.lower()), t) for t in tickets]
        return [t for score, t in sorted(scored, key=lambda p: -p[0]) if score >= threshold][:3]

    async def queue(
        self,
        session: AsyncSession,
        filters: QueueFilter,
        *,
        now: datetime,
        limit: int = 50,
        offset: int = 0,
        count_cap: int | None = None,
    ) -> tuple[list[Ticket], int]:
        """One page of the queue and how many tickets match (:func:`bot.desk.queue.page`)."""
        return await queue_page(
            session, filters, now=now, limit=limit, offset=offset, count_cap=count_cap
        )

    async def comments(
        self, session: AsyncSession, ticket: Ticket, *, public_only: bool = False
    ) -> list[TicketComment]:
        query = select(TicketComment).where(TicketComment.ticket_id == ticket.id)
        if public_only:
            query = query.where(TicketComment.public.is_(True))
        query = query.order_by(TicketComment.created_at, TicketComment.id)
        return list((await session.execute(query)).scalars().all())

    async def events(self, session: AsyncSession, ticket: Ticket) -> list[TicketEvent]:
        query = (
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.created_at, TicketEvent.id)
        )
        return list((await session.execute(query)).scalars().all())

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
        """Add a comment; ``None`` if a comment with ``external_key`` is already there."""
        body = redact(body.strip())
        if not body:
            raise InvalidChange("A comment needs some text.")
        if external_key is not None:
            seen = await session.execute(
                select(TicketComment.id).where(TicketComment.external_key == external_key)
            )
            if seen.first() is not None:
                return None
        is_requester = actor.staff_id == ticket.requester_id
        if not (is_requester or actor.is_agent or actor is SYSTEM or via == "external"):
            raise NotAllowed("Only the requester or a service desk agent can comment.")
        if is_requester and not public:
            public = True
        role = "requester" if is_requester else ("agent" if actor.is_agent else "system")
        if via == "external":
            role = "remote"
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
            ticket.status = "open"
            self._clocks_after_status(session, ticket, "pending", now)
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
        self, session: AsyncSession, ticket: Ticket, agent: Staff, *, now: datetime
    ) -> None:
        await self.assign(session, ticket, agent, agent, now=now)

    async def assign(
        self, session: AsyncSession, ticket: Ticket, agent: Staff, assignee: Staff, *, now: datetime
    ) -> None:
        self._require_agent(agent)
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
        self, session: AsyncSession, ticket: Ticket, agent: Staff, priority: str, *, now: datetime
    ) -> None:
        self._require_agent(agent)
        self._require_open(ticket)
        if priority not in PRIORITIES:
            raise InvalidChange(f"Priority must be one of {', '.join(PRIORITIES)}.")
        before = ticket.priority
        ticket.priority = priority
        clocks = self.policy.clocks(priority, ticket.created_at)
        # the new targets count from the start, plus the time the clocks have stood paused
        held = timedelta(seconds=ticket.sla_paused_seconds or 0)
        cal = self.policy.calendar
        ticket.response_due = cal.add(clocks.response_due, held) if held else clocks.response_due
        ticket.resolution_due = (
            cal.add(clocks.resolution_due, held) if held else clocks.resolution_due
        )
        ticket.response_risk_at = (
            cal.add(clocks.response_risk_at, held) if held else clocks.response_risk_at
        )
        ticket.resolution_risk_at = (
            cal.add(clocks.resolution_risk_at, held) if held else clocks.resolution_risk_at
        )
        ticket.sla_alerts = []
        ticket.sla_next_alert_at = self.next_sla_alert(ticket)
        await self._agent_change(
            session, ticket, agent, "priority", now, before=before, after=priority
        )

    async def set_status(
        self,
        session: AsyncSession,
        ticket: Ticket,
        actor: Staff,
        status: str,
        *,
        now: datetime,
        note: str = "",
    ) -> None:
        """Agents move tickets between any statuses; requesters may close or reopen their own."""
        if status not in STATUSES:
            raise InvalidChange(f"Status must be one of {', '.join(STATUSES)}.")
        is_requester = actor.id == ticket.requester_id
        if not actor.is_agent:
            if not is_requester:
                raise NotAllowed(
                    "Only the requester or a service desk agent can change this ticket."
                )
            if status == "open" and ticket.status in ("resolved", "closed"):
                self._check_reopen_window(ticket, now)
            elif status != "closed":
                raise NotAllowed("You can close or reopen your ticket; the desk does the rest.")
        if status == ticket.status:
            return
        before = ticket.status
        ticket.status = status
        if status == "resolved":
            ticket.resolved_at = now
        if status == "closed":
            ticket.closed_at = now
            ticket.resolved_at = ticket.resolved_at or now
        if status in OPEN_STATUSES:
            ticket.resolved_at = None
            ticket.closed_at = None
        self._clocks_after_status(session, ticket, before, now)
        if note:
            await self.comment(session, ticket, Actor.of(actor), note, now=now, via="desk")
        if actor.is_agent:
            await self._agent_change(
                session, ticket, actor, "status", now, before=before, after=status
            )
        else:
            self._event(
                session, ticket, Actor.of(actor), "status", now, before=before, after=status
            )
            self._emit(session, ticket, TICKET_CHANGED, now)
        self._emit(session, ticket, STATUS_CHANGED, now, status=status, before=before, remote=False)
        if status == "resolved":
            self._emit(session, ticket, CSAT_REQUESTED, now)

    async def apply_remote_status(
        self, session: AsyncSession, ticket: Ticket, status: str, *, actor: Actor, now: datetime
    ) -> None:
        """A status change made in the external desk: recorded, and the requester told."""
        if status not in STATUSES or status == ticket.status:
            return
        before = ticket.status
        ticket.status = status
        if status == "resolved":
            ticket.resolved_at = now
        elif status == "closed":
            ticket.closed_at = now
            ticket.resolved_at = ticket.resolved_at or now
        else:
            ticket.resolved_at = ticket.closed_at = None
        self._clocks_after_status(session, ticket, before, now)
        self._event(session, ticket, actor, "status", now, before=before, after=status, remote=True)
        self._emit(session, ticket, STATUS_CHANGED, now, status=status, before=before, remote=True)
        self._emit(session, ticket, TICKET_CHANGED, now)
        if status == "resolved":
            self._emit(session, ticket, CSAT_REQUESTED, now)

    async def rate(
        self,
        session: AsyncSession,
        ticket: Ticket,
        requester: Staff,
        score: int,
        *,
        now: datetime,
        comment: str = "",
    ) -> None:
        if requester.id != ticket.requester_id:
            raise NotAllowed("Only the person who raised the ticket can rate it.")
        if not 1 <= score <= 5:
            raise InvalidChange("Please rate from 1 (poor) to 5 (excellent).")
        ticket.csat_score = score
        ticket.csat_comment = comment.strip() or None
        self._event(session, ticket, Actor.of(requester), "rated", now, score=score)
        self._emit(session, ticket, TICKET_CHANGED, now)  # the rating shows in triage

    # -- SLA alerts -------------------------------------------------------------------------

    def next_sla_alert(self, ticket: Ticket) -> datetime | None:
        """When the ticket's next SLA alert falls due; ``None`` once there are no more."""
        if ticket.status not in RUNNING_STATUSES:  # closed, or paused while pending
            return None
        sent = set(ticket.sla_alerts or ())
        return min(
            (at for at, kind in self._alert_schedule(ticket) if kind not in sent), default=None
        )

    async def sla_sweep(
        self, session: AsyncSession, *, now: datetime, limit: int = 200
    ) -> tuple[list[tuple[str, list[str]]], int]:
        """Record the SLA alerts due by ``now``, once each, with an ``sla_alert`` outbox row.

        Reads only tickets whose ``sla_next_alert_at`` has passed (an index range); rows
        another replica is sweeping are skipped (``SKIP LOCKED`` on PostgreSQL). Returns
        ``(ref, alerts)`` for each ticket alerted, and how many tickets were examined
        (``limit`` of them: more may be due).
        """
        query = (
            select(Ticket)
            .where(Ticket.sla_next_alert_at <= now)
            .order_by(Ticket.sla_next_alert_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Ticket)
        )
        alerted: list[tuple[str, list[str]]] = []
        tickets = (await session.execute(query)).scalars().all()
        for ticket in tickets:
            sent = list(ticket.sla_alerts or ())
            due = [
                kind
                for at, kind in self._alert_schedule(ticket)
                if at <= now and kind not in sent and ticket.status in RUNNING_STATUSES
            ]
            if due:
                ticket.sla_alerts = [*sent, *due]
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        created_at=now,
                        actor=SYSTEM.email,
                        kind="sla_alert",
                        details={"alerts": due},
                    )
                )
                self._emit(session, ticket, SLA_ALERT, now, alerts=due)
                self._emit(session, ticket, TICKET_CHANGED, now)
                alerted.append((ticket.ref or "", due))
            ticket.sla_next_alert_at = self.next_sla_alert(ticket)
        return alerted, len(tickets)

    def _clocks_after_status(
        self, session: AsyncSession, ticket: Ticket, before: str, now: datetime
    ) -> None:
        """Pause the SLA clocks when a ticket becomes pending; start them again after.

        On leaving "pending" the due and at-risk times move on by the working time the
        ticket waited, except for a clock already breached when the pause began (a
        breach stays a breach) and the response clock once answered.
        """
        if ticket.status == "pending" and before != "pending":
            ticket.sla_paused_at = now
        elif before == "pending" and ticket.status != "pending" and ticket.sla_paused_at:
            paused_at, ticket.sla_paused_at = ticket.sla_paused_at, None
            cal = self.policy.calendar
            held = cal.between(paused_at, now)
            if held > timedelta(0):
                if ticket.first_response_at is None and ticket.response_due > paused_at:
                    ticket.response_due = cal.add(ticket.response_due, held)
                    ticket.response_risk_at = cal.add(ticket.response_risk_at, held)
                if ticket.resolution_due > paused_at:
                    ticket.resolution_due = cal.add(ticket.resolution_due, held)
                    ticket.resolution_risk_at = cal.add(ticket.resolution_risk_at, held)
                ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(
                    held.total_seconds()
                )
            if held >= timedelta(minutes=1):  # worth a line in the history
                self._event(
                    session,
                    ticket,
                    SYSTEM,
                    "sla_resumed",
                    now,
                    paused_minutes=round(held.total_seconds() / 60),
                )
        ticket.sla_next_alert_at = self.next_sla_alert(ticket)

    @staticmethod
    def _alert_schedule(ticket: Ticket) -> list[tuple[datetime, str]]:
        return [
            (at, str(kind))
            for at, kind in alert_schedule(
                response_risk_at=ticket.response_risk_at,
                response_due=ticket.response_due,
                resolution_risk_at=ticket.resolution_risk_at,
                resolution_due=ticket.resolution_due,
                responded=ticket.first_response_at is not None,
            )
        ]

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
    def _require_agent(staff: Staff) -> None:
        if not staff.is_agent:
            raise NotAllowed("Only service desk agents can do that.")

    @staticmethod
    def _require_open(ticket: Ticket) -> None:
        if ticket.status not in OPEN_STATUSES:
            raise InvalidChange(f"{ticket.ref} is {ticket.status}; reopen it first.")

    async def _agent_change(
        self,
        session: AsyncSession,
        ticket: Ticket,
        agent: Staff,
        kind: str,
        now: datetime,
        **details: Any,
    ) -> None:
        self._event(session, ticket, Actor.of(agent), kind, now, **details)
        await audit.record(
            session, actor=agent.email, action=f"ticket_{kind}", subject=ticket.ref or "", **details
        )
        self._emit(session, ticket, TICKET_CHANGED, now)

    def _event(
        self,
        session: AsyncSession,
        ticket: Ticket,
        actor: Actor,
        kind: str,
        now: datetime,
        **details: Any,
    ) -> None:
        ticket.updated_at = now
        session.add(
            TicketEvent(
                ticket_id=ticket.id, created_at=now, actor=actor.email, kind=kind, details=details
            )
        )

    def _emit(
        self, session: AsyncSession, ticket: Ticket, kind: str, now: datetime, **details: Any
    ) -> None:
        """Announce a change to whoever subscribed (rows in the outbox, this transaction)."""
        self.listeners.emit(
            session, ticket_id=ticket.id, ref=ticket.ref, kind=kind, now=now, **details
        )
