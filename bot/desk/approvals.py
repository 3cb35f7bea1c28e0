"""Changes that wait for a service desk agent's yes: the approvals queue (first user: MFA reset).

A flow whose change needs an agent's approval (removing someone's sign-in methods) calls
:meth:`Approvals.request`. The request waits until an agent approves or denies it (in the
agents' triage channel, on the dashboard) or until it expires after
``ITBOT_APPROVAL_HOURS`` of *working* time on the desk's calendar: with one hour, a
request at 16:50 on a Friday expires at 09:20 on Monday. An agent can't decide their own
request. Every request, decision, refused decision and expiry goes to the audit log, and
is announced as a desk event for whoever subscribed (``bot.desk.events``)::

    approval_requested {approval_id, kind}
    approval_decided   {approval_id, kind, outcome, decided_by}   outcome: approved|denied|expired

so the triage channel shows Approve / Deny and then who decided, the requester hears of a
denial or an expiry, and whatever carries out the change subscribes to ``approved``.

A refused decision is an answer, not an exception: :meth:`Approvals.decide` returns a
:class:`Decision` whose ``message`` says why, so the caller's transaction commits the
audit entry (and the expiry a late decision finds) either way.

>>> async with db.session() as s, s.begin():                              # doctest: +SKIP
...     approval = await desk.approvals.request(
...         s, kind="reset_mfa", requester=sam, channel="web", now=now,
...         subject="Reset MFA for Sam Taylor (sam.taylor@dacorum.gov.uk)")
...     decision = await desk.approvals.decide(
...         s, approval.id, Actor.of(pat), approve=True, now=now, via="dashboard")
>>> decision.outcome                                                       # doctest: +SKIP
'approved'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import ForeignKey, Index, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.desk.actor import SYSTEM, Actor
from bot.desk.calendar import LONDON, WorkingCalendar
from bot.desk.errors import InvalidChange
from bot.desk.events import APPROVAL_DECIDED, APPROVAL_REQUESTED, Events
from bot.desk.tickets import Ticket
from bot.redaction import redact
from bot.storage import audit
from bot.storage.models import Base, Staff

PENDING: Final = "pending"
APPROVED: Final = "approved"
DENIED: Final = "denied"
EXPIRED: Final = "expired"
STATUSES: Final = (PENDING, APPROVED, DENIED, EXPIRED)

#: why a decision was refused
Reason = Literal["", "not_found", "not_agent", "own_request", "decided", "expired"]

NOT_FOUND = "There is no such approval request."
NOT_AGENT = "Only service desk agents can approve or deny requests."
OWN_REQUEST = "You made this request yourself, so another agent must approve or deny it."
ALREADY = {
    APPROVED: "This request was already approved by {who}.",
    DENIED: "This request was already denied by {who}.",
    EXPIRED: "This request expired at {when} before anyone decided it; the requester was told.",
}
EXPIRED_NOW = (
    "This request expired at {when}, so it can't be {verb} now. The requester has been told "
    "and can ask again."
)


class Approval(Base):
    """A change that waits for a service desk agent to approve or deny it."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_status_expires", "status", "expires_at"),
        Index("ix_approvals_decided", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what is to be done: ``reset_mfa``, ...
    kind: Mapped[str] = mapped_column(String(32))
    requester_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    council: Mapped[str] = mapped_column(String(64))
    #: one line for agents: "Reset MFA for Sam Taylor (sam.taylor@dacorum.gov.uk)"
    subject: Mapped[str] = mapped_column(String(300))
    #: what carrying out the change needs (never a secret)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: where the person asked (``web``, ``terminal``, a chat channel) and in which
    #: conversation, so they can be told the outcome there
    channel: Mapped[str] = mapped_column(String(32))
    thread: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    requested_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    #: when it was approved or denied, or when it expired
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    #: the ticket it belongs to, if any
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )

    requester: Mapped[Staff] = relationship(foreign_keys=[requester_id], lazy="joined")
    decided_by: Mapped[Staff | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    @property
    def reference(self) -> str:
        """How the audit log and agents name it: ``Approval 12: Reset MFA for …``."""
        return f"Approval {self.id}: {self.subject}"[:320]


@dataclass(frozen=True, slots=True)
class Decision:
    """What became of an attempt to decide: ``approved``, ``denied`` or ``refused``.

    ``message`` is for the person who tried (why it was refused, in plain words);
    ``approval`` is the request as it now stands (``None`` if there is no such request).
    """

    outcome: Literal["approved", "denied", "refused"]
    approval: Approval | None
    reason: Reason = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != "refused"


def local_time(moment: datetime) -> str:
    """``Mon 30 Nov 09:20`` in UK time."""
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


@dataclass(frozen=True)
class Approvals:
    """The approvals queue: request, decide, expire and read (a part of the desk)."""

    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    #: working hours a request waits before it expires
    hours: float = 1.0
    listeners: Events = field(default_factory=Events)

    def expiry(self, requested_at: datetime) -> datetime:
        """When a request made at ``requested_at`` expires (working time on the calendar)."""
        return self.calendar.add(requested_at, timedelta(hours=self.hours))

    # -- asking -------------------------------------------------------------------------

    async def request(
        self,
        session: AsyncSession,
        *,
        kind: str,
        requester: Staff,
        subject: str,
        channel: str,
        now: datetime,
        details: Mapping[str, Any] | None = None,
        thread: str = "",
        ticket_id: int | None = None,
    ) -> Approval:
        """Put a change in the queue for an agent to approve; announces ``approval_requested``."""
        subject = redact(" ".join(subject.split()))[:300]
        if not kind or not subject:
            raise InvalidChange("An approval request needs a kind and a one-line subject.")
        approval = Approval(
            kind=kind,
            requester_id=requester.id,
            council=requester.council,
            subject=subject,
            details=_cleaned(dict(details or {})),
            channel=channel,
            thread=thread,
            status=PENDING,
            requested_at=now,
            expires_at=self.expiry(now),
            ticket_id=ticket_id,
        )
        session.add(approval)
        await session.flush()
        await self._audit(session, requester.email, "approval_requested", approval, channel=channel)
        await self._emit(session, approval, APPROVAL_REQUESTED, now)
        return approval

    # -- deciding -----------------------------------------------------------------------

    async def decide(
        self,
        session: AsyncSession,
        approval_id: int,
        actor: Actor,
        *,
        approve: bool,
        now: datetime,
        via: str,
    ) -> Decision:
        """``actor`` approves or denies the request; ``via`` is where they did it.

        Refused (and audited as ``approval_refused``) unless ``actor`` is a proven agent,
        not the requester, and the request is still pending; a request past its expiry is
        marked expired (and announced) instead.
        """
        wanted: Literal["approved", "denied"] = APPROVED if approve else DENIED
        approval = await self.get(session, approval_id)

        async def refuse(reason: Reason, message: str) -> Decision:
            await self._audit(
                session,
                actor.email,
                "approval_refused",
                approval,
                approval_id=approval_id,
                channel=via,
                wanted=wanted,
                reason=reason,
            )
            return Decision("refused", approval, reason, message)

        if approval is None:
            return await refuse("not_found", NOT_FOUND)
        if not actor.is_agent or actor.staff_id is None or actor.kind != "staff":
            return await refuse("not_agent", NOT_AGENT)
        if actor.staff_id == approval.requester_id:
            return await refuse("own_request", OWN_REQUEST)
        if approval.status == PENDING and now >= approval.expires_at:
            if not await self._expire(session, approval, now):  # settled meanwhile
                return await refuse("decided", already(approval))
            verb = "approved" if approve else "denied"
            return await refuse(
                "expired", EXPIRED_NOW.format(when=local_time(approval.expires_at), verb=verb)
            )
        if approval.status == PENDING and await self._settle(
            session, approval, wanted, at=now, by=actor.staff_id
        ):
            await self._audit(
                session, actor.email, f"approval_{wanted}", approval, channel=via, outcome=wanted
            )
            await self._emit(
                session, approval, APPROVAL_DECIDED, now, outcome=wanted, decided_by=actor.email
            )
            return Decision(wanted, approval)
        return await refuse("decided", already(approval))

    async def expire_due(
        self, session: AsyncSession, *, now: datetime, limit: int = 200
    ) -> list[Approval]:
        """Mark pending requests whose time is up as expired (the watcher calls this).

        Rows another replica is expiring are skipped (``SKIP LOCKED`` on PostgreSQL).
        """
        query = (
            select(Approval.id)
            .where(Approval.status == PENDING, Approval.expires_at <= now)
            .order_by(Approval.expires_at)
            .limit(limit)
            # NO KEY UPDATE: a row whose Slack message is being recorded (that insert's
            # foreign key holds KEY SHARE on it) is still expired in this pass
            .with_for_update(skip_locked=True, key_share=True)
        )
        expired: list[Approval] = []
        for approval_id in (await session.execute(query)).scalars().all():
            approval = await self.get(session, approval_id)
            if approval is not None and await self._expire(session, approval, now):
                expired.append(approval)
        return expired

    # -- reading ------------------------------------------------------------------------

    async def get(self, session: AsyncSession, approval_id: int) -> Approval | None:
        return await session.get(Approval, approval_id)

    async def pending(
        self, session: AsyncSession, *, now: datetime | None = None, limit: int = 100
    ) -> list[Approval]:
        """Requests waiting for a decision, the soonest to expire first (with ``now``: only
        those not yet past their expiry, which the watcher is about to mark)."""
        query = select(Approval).where(Approval.status == PENDING)
        if now is not None:
            query = query.where(Approval.expires_at > now)
        query = query.order_by(Approval.expires_at, Approval.id).limit(limit)
        return list((await session.execute(query)).scalars().all())

    async def recent(self, session: AsyncSession, *, limit: int = 20) -> list[Approval]:
        """Requests decided or expired, the latest first."""
        query = (
            select(Approval)
            .where(Approval.status != PENDING)
            .order_by(Approval.decided_at.desc(), Approval.id.desc())
            .limit(limit)
        )
        return list((await session.execute(query)).scalars().all())

    # -- helpers ------------------------------------------------------------------------

    async def _settle(
        self,
        session: AsyncSession,
        approval: Approval,
        status: str,
        *,
        at: datetime,
        by: int | None,
    ) -> bool:
        """Move a pending request to ``status``; ``False`` if someone else got there first
        (the UPDATE only matches a pending row, so two deciders never both win)."""
        result = await session.execute(
            update(Approval)
            .where(Approval.id == approval.id, Approval.status == PENDING)
            .values(status=status, decided_at=at, decided_by_id=by)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(approval)
        return bool(getattr(result, "rowcount", 0))

    async def _expire(self, session: AsyncSession, approval: Approval, now: datetime) -> bool:
        if not await self._settle(session, approval, EXPIRED, at=approval.expires_at, by=None):
            return False
        await self._audit(
            session, SYSTEM.email, "approval_expired", approval, channel="", outcome=EXPIRED
        )
        await self._emit(session, approval, APPROVAL_DECIDED, now, outcome=EXPIRED, decided_by="")
        return True

    async def _audit(
        self,
        session: AsyncSession,
        actor: str,
        action: str,
        approval: Approval | None,
        **details: Any,
    ) -> None:
        if approval is not None:
            details = {
                "approval_id": approval.id,
                "kind": approval.kind,
                "requested_via": approval.channel,
                **details,
            }
        subject = (
            approval.reference if approval is not None else f"Approval {details['approval_id']}"
        )
        details.setdefault("outcome", "refused" if action == "approval_refused" else PENDING)
        await audit.record(session, actor=actor, action=action, subject=subject, **details)

    async def _emit(
        self, session: AsyncSession, approval: Approval, kind: str, now: datetime, **details: Any
    ) -> None:
        payload: dict[str, Any] = {"approval_id": approval.id, "kind": approval.kind, **details}
        ticket = await session.get(Ticket, approval.ticket_id) if approval.ticket_id else None
        if ticket is not None:
            payload["ref"] = ticket.ref
        self.listeners.announce(
            session, kind, payload, now=now, ticket_id=ticket.id if ticket is not None else None
        )


def already(approval: Approval) -> str:
    """Why a request that isn't pending can't be decided, in words."""
    decider = approval.decided_by
    who = (decider.display_name or decider.email) if decider is not None else ""
    return ALREADY.get(approval.status, NOT_FOUND).format(
        who=who or "another agent", when=local_time(approval.decided_at or approval.expires_at)
    )


def _cleaned(value: Any) -> Any:
    """Details with anything that looks like a typed secret hidden (details hold none)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value
