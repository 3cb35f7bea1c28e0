"""Finding tickets: the read-only queries channels, pages and the CLI share.

Each function takes the session of the caller's unit of work.

>>> tickets = await for_requester(session, staff.id, limit=10)   # doctest: +SKIP
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.tickets import OPEN_STATUSES, Ticket


def normalise_ref(ref: str) -> str:
    """How references are stored: ``" jsd-000042 "`` is ``JSD-000042``."""
    return ref.strip().upper()


async def by_ref(session: AsyncSession, ref: str) -> Ticket | None:
    query = select(Ticket).where(Ticket.ref == normalise_ref(ref))
    return (await session.execute(query)).scalar_one_or_none()


async def ref_exists(session: AsyncSession, ref: str) -> bool:
    """Whether a ticket has this reference (without loading it)."""
    query = select(Ticket.ref).where(Ticket.ref == normalise_ref(ref))
    return (await session.execute(query)).first() is not None


async def for_requester(
    session: AsyncSession, staff_id: int, *, open_only: bool = True, limit: int = 20
) -> list[Ticket]:
    """The person's tickets (open ones only by default), newest first."""
    query = select(Ticket).where(Ticket.requester_id == staff_id)
    if open_only:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    query = query.order_by(Ticket.created_at.desc()).limit(limit)
    return list((await session.execute(query)).scalars().all())
