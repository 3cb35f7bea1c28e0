"""Finding tickets and reading their history: the desk's read side.

:class:`bot.desk.service.Desk` is a :class:`TicketReader`, so callers keep asking the
desk (``desk.get(session, "JSD-000042")``); nothing here changes a row.
"""

from __future__ import annotations

from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.desk import queries
from bot.desk.queue import QueueFilter
from bot.desk.queue import page as queue_page
from bot.desk.tickets import OPEN_STATUSES, Ticket, TicketComment, TicketEvent


class TicketReader:
    """Finders over tickets, their comments and their events."""

    async def get(self, session: AsyncSession, ref: str) -> Ticket | None:
        return await queries.by_ref(session, ref)

    async def get_by_id(self, session: AsyncSession, ticket_id: int | None) -> Ticket | None:
        return await session.get(Ticket, ticket_id) if ticket_id is not None else None

    async def for_requester(
        self, session: AsyncSession, staff_id: int, *, open_only: bool = True, limit: int = 20
    ) -> list[Ticket]:
        return await queries.for_requester(session, staff_id, open_only=open_only, limit=limit)

    async def similar_open(
        self, session: AsyncSession, staff_id: int, summary: str, *, threshold: float = 60
    ) -> list[Ticket]:
        """The requester's open tickets that look like the same problem, best first."""
        tickets = await self.for_requester(session, staff_id, open_only=True, limit=50)
        scored = [(fuzz.token_set_ratio(summary.lower(), t.summary.lower()), t) for t in tickets]
        return [t for score, t in sorted(scored, key=lambda p: -p[0]) if score >= threshold][:3]

    async def awaiting_requester(
        self, session: AsyncSession, staff_id: int, *, since: datetime
    ) -> tuple[Ticket, TicketComment] | None:
        """The requester's open ticket whose newest public word is an agent's, said since
        ``since`` (a question to them, most likely), with that comment; the newest first.

        One statement whatever the number of open tickets (every turn of a proven person
        asks it): a public comment that no later public comment on its ticket follows.
        """
        later = aliased(TicketComment)
        followed = (
            select(later.id)
            .where(
                later.ticket_id == TicketComment.ticket_id,
                later.public.is_(True),
                or_(
                    later.created_at > TicketComment.created_at,
                    and_(later.created_at == TicketComment.created_at, later.id > TicketComment.id),
                ),
            )
            .exists()
        )
        query = (
            select(Ticket, TicketComment)
            .join(TicketComment, TicketComment.ticket_id == Ticket.id)
            .where(
                Ticket.requester_id == staff_id,
                Ticket.status.in_(OPEN_STATUSES),
                TicketComment.public.is_(True),
                TicketComment.author_role != "requester",
                TicketComment.created_at >= since,
                ~followed,
            )
            .order_by(TicketComment.created_at.desc(), TicketComment.id.desc())
            .limit(1)
        )
        row = (await session.execute(query)).first()
        return (row[0], row[1]) if row is not None else None

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
