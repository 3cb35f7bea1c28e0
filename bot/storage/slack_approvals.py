"""Slack's own table: where each approval request's message in the triage channel is.

Owned by the Slack channel (the desk knows nothing of it); kept here because channels
build no SQL. When the request is decided or expires, the message is updated in place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class SlackApprovalMessage(Base):
    """The triage channel's message for one approval request."""

    __tablename__ = "slack_approval_messages"
    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_slack_approval_messages_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(
        ForeignKey("approvals.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def message(session: AsyncSession, approval_id: int) -> tuple[str, str] | None:
    """Where the request's message is (channel, ts), if it has been posted."""
    query = select(SlackApprovalMessage.channel, SlackApprovalMessage.ts).where(
        SlackApprovalMessage.approval_id == approval_id
    )
    row = (await session.execute(query)).first()
    return (str(row[0]), str(row[1])) if row is not None else None


async def remember(session: AsyncSession, approval_id: int, channel: str, ts: str) -> None:
    """Note that ``channel``/``ts`` is the request's message (once)."""
    if await message(session, approval_id) is None:
        session.add(SlackApprovalMessage(approval_id=approval_id, channel=channel, ts=ts))
