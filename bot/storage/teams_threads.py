"""Teams' ticket threads: which thread of the agents' triage channel belongs to which ticket.

Owned by the Teams channel (the desk knows nothing of it); kept here because channels
build no SQL. One row per ticket whose card was posted to the triage channel: the
thread's conversation id (``19:…@thread.tacv2;messageid=<card>``) that replies in it
carry, the card's activity id (to update it) and the service URL it was posted through.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class TeamsTicketThread(Base):
    """A ticket's card in the Teams triage channel, and the thread under it."""

    __tablename__ = "teams_ticket_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    conversation_id: Mapped[str] = mapped_column(String(400), unique=True)
    activity_id: Mapped[str] = mapped_column(String(200))
    service_url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def of_ticket(session: AsyncSession, ticket_id: int) -> TeamsTicketThread | None:
    """The ticket's card, if it has been posted."""
    query = select(TeamsTicketThread).where(TeamsTicketThread.ticket_id == ticket_id)
    return (await session.execute(query)).scalar_one_or_none()


async def by_conversation(session: AsyncSession, conversation_id: str) -> TeamsTicketThread | None:
    """The ticket thread a reply in ``conversation_id`` belongs to, if it is one of ours."""
    query = select(TeamsTicketThread).where(TeamsTicketThread.conversation_id == conversation_id)
    return (await session.execute(query)).scalar_one_or_none()


async def remember(
    session: AsyncSession,
    *,
    ticket_id: int,
    conversation_id: str,
    activity_id: str,
    service_url: str,
    now: datetime,
) -> TeamsTicketThread:
    """Note where the ticket's card is (once)."""
    row = await of_ticket(session, ticket_id)
    if row is None:
        row = TeamsTicketThread(
            ticket_id=ticket_id,
            conversation_id=conversation_id,
            activity_id=activity_id,
            service_url=service_url,
            created_at=now,
        )
        session.add(row)
    return row
