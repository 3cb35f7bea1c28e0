"""Service notices: a known problem, told to the staff of its councils while it stands.

An agent publishes a notice (from a spike's alert, the dashboard or ``itbot notice add``)
with its text, products, councils and expiry. While it stands (not ended, not expired):

- staff of those councils whose question or ticket is about it are told first, and may
  add themselves to it (:meth:`Notices.join`) instead of raising a ticket;
- a ticket that arrives on it anyway is linked to the notice's *parent* ticket
  (:meth:`Notices.link_arrival`);
- when the parent is resolved or closed the desk moves the linked tickets with it (their
  requesters hear through their own tickets) and announces ``notice_resolved`` for each
  person who added themselves (:meth:`Notices.parent_done`).

The desk never words anything for staff: the chat flows and pages do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.errors import InvalidChange
from bot.desk.events import NOTICE_RESOLVED, Events
from bot.desk.outage_tables import NoticeMember, OutageSpike, ServiceNotice, SpikeReport
from bot.desk.spikes import products_in
from bot.desk.tickets import OPEN_STATUSES, Ticket, TicketEvent
from bot.redaction import redact
from bot.storage import audit
from bot.storage.models import Staff

MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class Notices:
    """The service notices (a part of :class:`bot.desk.service.Desk`)."""

    listeners: Events = field(default_factory=Events)

    # -- publishing -------------------------------------------------------------------------

    async def publish(
        self,
        session: AsyncSession,
        *,
        text: str,
        products: Sequence[str],
        councils: Sequence[str],
        expires_at: datetime,
        by: str,
        now: datetime,
        category: str = "",
        spike_id: int | None = None,
    ) -> ServiceNotice:
        """Publish a notice (about a spike: its reports are linked to its first ticket)."""
        text = redact(" ".join(text.split()))
        products = [p.strip() for p in products if p.strip()]
        councils = list(dict.fromkeys(c.strip() for c in councils if c.strip()))
        if not text:
            raise InvalidChange("A notice needs some text for staff.")
        if len(text) > MAX_TEXT:
            raise InvalidChange(f"Keep a notice under {MAX_TEXT} characters.")
        if not councils:
            raise InvalidChange("A notice needs at least one council.")
        if expires_at <= now:
            raise InvalidChange("A notice's expiry must be in the future.")
        spike = await session.get(OutageSpike, spike_id) if spike_id is not None else None
        if spike_id is not None and spike is None:
            raise InvalidChange(f"There is no spike {spike_id}.")
        if spike is not None and spike.notice_id is not None:
            raise InvalidChange(
                f"A notice about this spike is already published ({spike.notice_id})."
            )
        notice = ServiceNotice(
            text=text,
            products=products,
            councils=councils,
            category=category or (spike.category if spike else ""),
            since=spike.first_at if spike is not None else now,
            expires_at=expires_at,
            created_at=now,
            created_by=by,
        )
        session.add(notice)
        await session.flush()
        if spike is not None:
            spike.notice_id = notice.id
            reports = await _spike_tickets(session, spike.id)
            if reports:
                notice.parent_ticket_id = reports[0].id
                for child in reports[1:]:
                    await self._link(session, notice, child, now=now)
        await audit.record(
            session,
            actor=by,
            action="notice_published",
            subject=f"Notice {notice.id}",
            councils=councils,
            products=products,
            expires_at=expires_at.isoformat(),
        )
        return notice

    async def end(
        self, session: AsyncSession, notice_id: int, *, by: str, now: datetime
    ) -> ServiceNotice:
        notice = await session.get(ServiceNotice, notice_id)
        if notice is None:
            raise InvalidChange(f"There is no notice {notice_id}.")
        if not standing(notice, now):
            raise InvalidChange(f"Notice {notice_id} has already ended.")
        notice.ended_at = now
        await audit.record(session, actor=by, action="notice_ended", subject=f"Notice {notice.id}")
        return notice

    async def dismiss_spike(
        self, session: AsyncSession, spike_id: int, *, by: str, now: datetime
    ) -> None:
        spike = await session.get(OutageSpike, spike_id)
        if spike is None:
            raise InvalidChange(f"There is no spike {spike_id}.")
        spike.dismissed_at = now
        await audit.record(session, actor=by, action="spike_dismissed", subject=f"Spike {spike_id}")

    # -- reading ----------------------------------------------------------------------------

    async def get(self, session: AsyncSession, notice_id: int) -> ServiceNotice | None:
        return await session.get(ServiceNotice, notice_id)

    async def listing(
        self, session: AsyncSession, *, now: datetime, ended: bool = False, limit: int = 50
    ) -> list[ServiceNotice]:
        """Standing notices, newest first (with ``ended``: every notice)."""
        query = select(ServiceNotice).order_by(
            ServiceNotice.created_at.desc(), ServiceNotice.id.desc()
        )
        if not ended:
            query = query.where(ServiceNotice.ended_at.is_(None), ServiceNotice.expires_at > now)
        return list((await session.execute(query.limit(limit))).scalars())

    async def members(self, session: AsyncSession, notice_id: int) -> list[NoticeMember]:
        rows = await session.execute(
            select(NoticeMember)
            .where(NoticeMember.notice_id == notice_id)
            .order_by(NoticeMember.id)
        )
        return list(rows.scalars())

    async def matching(
        self, session: AsyncSession, *, council: str, text: str, category: str = "", now: datetime
    ) -> ServiceNotice | None:
        """The standing notice of ``council`` that ``text`` (a question or a ticket's
        summary) is about: it names one of the notice's products, or is in its category."""
        named = {p.lower() for p in products_in(text)}
        words = set(text.lower().split())
        for notice in await self.listing(session, now=now):
            if council not in notice.councils:
                continue
            products = {p.lower() for p in notice.products}
            if named & products or words & products:
                return notice
            if category and notice.category == category:
                return notice
        return None

    # -- staff joining, tickets arriving, the parent done ------------------------------------

    async def join(
        self,
        session: AsyncSession,
        notice_id: int,
        staff: Staff,
        *,
        channel: str,
        thread: str,
        now: datetime,
    ) -> ServiceNotice:
        """``staff`` is affected too: told when it is fixed, with no ticket of their own."""
        notice = await session.get(ServiceNotice, notice_id)
        if notice is None or not standing(notice, now) or staff.council not in notice.councils:
            raise InvalidChange("That notice has ended.")
        member = await _member(session, notice.id, staff.id)
        if member is None:
            session.add(
                NoticeMember(
                    notice_id=notice.id,
                    staff_id=staff.id,
                    channel=channel,
                    thread=thread,
                    joined_at=now,
                )
            )
        return notice

    async def link_arrival(
        self, session: AsyncSession, ticket: Ticket, *, now: datetime
    ) -> ServiceNotice | None:
        """A ticket raised while a notice about it stands is linked to the notice's parent."""
        with session.no_autoflush:  # most tickets are about no notice: keep the batch
            notice = await self.matching(
                session,
                council=ticket.council,
                text=ticket.summary,
                category=ticket.category,
                now=now,
            )
        if notice is None or notice.parent_ticket_id in (None, ticket.id):
            return None
        await self._link(session, notice, ticket, now=now)
        return notice

    async def parent_of(self, session: AsyncSession, ticket_id: int) -> Ticket | None:
        """The parent ticket ``ticket_id`` is linked to, if any."""
        row = await session.execute(
            select(ServiceNotice.parent_ticket_id)
            .join(NoticeMember, NoticeMember.notice_id == ServiceNotice.id)
            .where(NoticeMember.ticket_id == ticket_id)
        )
        parent_id = row.scalars().first()
        return await session.get(Ticket, parent_id) if parent_id is not None else None

    async def parent_done(
        self, session: AsyncSession, parent: Ticket, status: str, *, now: datetime
    ) -> list[Ticket]:
        """``parent`` was resolved or closed: its notices end, everyone who added themselves
        is told (``notice_resolved``), and the open linked tickets are returned for the
        desk to move with it."""
        notices = await session.execute(
            select(ServiceNotice).where(ServiceNotice.parent_ticket_id == parent.id)
        )
        children: list[Ticket] = []
        for notice in notices.scalars():
            if notice.ended_at is None:
                notice.ended_at = now
            for member in await self.members(session, notice.id):
                if member.ticket_id == parent.id:
                    continue
                if member.ticket_id is not None:
                    child = await session.get(Ticket, member.ticket_id)
                    if child is not None and child.status in OPEN_STATUSES:
                        children.append(child)
                elif member.told_at is None:
                    member.told_at = now
                    self.listeners.announce(
                        session,
                        NOTICE_RESOLVED,
                        {"notice_id": notice.id, "staff_id": member.staff_id, "status": status,
                         "ref": parent.ref, "channel": member.channel, "thread": member.thread},
                        now=now,
                    )  # fmt: skip
        return children

    async def _link(
        self, session: AsyncSession, notice: ServiceNotice, ticket: Ticket, *, now: datetime
    ) -> None:
        member = await _member(session, notice.id, ticket.requester_id)
        if member is None:
            session.add(
                NoticeMember(
                    notice_id=notice.id,
                    staff_id=ticket.requester_id,
                    ticket_id=ticket.id,
                    channel=ticket.reply_channel,
                    thread=ticket.reply_thread,
                    joined_at=now,
                )
            )
        elif member.ticket_id is None:
            member.ticket_id = ticket.id
        parent = (
            await session.get(Ticket, notice.parent_ticket_id) if notice.parent_ticket_id else None
        )
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                created_at=now,
                actor="system",
                kind="linked",
                details={"parent": parent.ref if parent else None, "notice": notice.id},
            )
        )


def standing(notice: ServiceNotice, now: datetime) -> bool:
    return notice.ended_at is None and notice.expires_at > now


async def _member(session: AsyncSession, notice_id: int, staff_id: int) -> NoticeMember | None:
    row = await session.execute(
        select(NoticeMember).where(
            NoticeMember.notice_id == notice_id, NoticeMember.staff_id == staff_id
        )
    )
    return row.scalars().first()


async def _spike_tickets(session: AsyncSession, spike_id: int) -> list[Ticket]:
    rows = await session.execute(
        select(Ticket)
        .join(SpikeReport, SpikeReport.ticket_id == Ticket.id)
        .where(SpikeReport.spike_id == spike_id)
        .order_by(Ticket.created_at, Ticket.id)
    )
    return list(rows.scalars().unique())
