"""Slack's own table: which Slack messages belong to which ticket.

Owned by the Slack channel (the desk knows nothing of it); kept here because channels
build no SQL. A ticket's ``triage`` message is the one in the agents' triage channel
(replies in its thread reach the requester); a ``dm`` message is a notification in the
requester's DM (a reply in its thread reaches the agents).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class SlackTicketThread(Base):
    """A Slack message that belongs to a ticket: its triage message, or a notification DM."""

    __tablename__ = "slack_ticket_threads"
    __table_args__ = (
        UniqueConstraint("channel", "ts", name="uq_slack_ticket_threads_message"),
        Index("ix_slack_ticket_threads_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    #: ``triage`` or ``dm``
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def find(session: AsyncSession, channel: str, ts: str, kind: str) -> SlackTicketThread | None:
    """The ticket message at ``channel``/``ts`` of this ``kind``, if it is one of ours."""
    query = select(SlackTicketThread).where(
        SlackTicketThread.channel == channel,
        SlackTicketThread.ts == ts,
        SlackTicketThread.kind == kind,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def remember(session: AsyncSession, ticket_id: int, channel: str, ts: str, kind: str) -> None:
    """Note that ``channel``/``ts`` is the ticket's ``kind`` message (once)."""
    if await find(session, channel, ts, kind) is None:
        session.add(SlackTicketThread(ticket_id=ticket_id, channel=channel, ts=ts, kind=kind))


async def triage_message(session: AsyncSession, ticket_id: int) -> tuple[str, str] | None:
    """Where the ticket's triage message is (channel, ts), if it has been posted."""
    query = (
        select(SlackTicketThread.channel, SlackTicketThread.ts)
        .where(SlackTicketThread.ticket_id == ticket_id, SlackTicketThread.kind == "triage")
        .order_by(SlackTicketThread.id)
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return (str(row[0]), str(row[1])) if row is not None else None
