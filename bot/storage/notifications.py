"""Messages kept for someone who isn't in a push channel right now (web chat, terminal).

The requester's notifier keeps a reply here when no channel can push it; the person
sees it once, at their next turn on any channel where only they see the replies, or
when the web chat page polls for it. ``channel`` says where they were when it was kept.
Replies are stored as channel-neutral JSON (text, kind, buttons), so this module knows
no chat types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class Notification(Base):
    """A message for someone who isn't in a push channel (web chat, terminal): shown at
    their next turn, and polled by the web chat page."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "staff_id", "channel", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    thread: Mapped[str] = mapped_column(String(128), default="")
    #: the channel-neutral Reply, as JSON (text, buttons)
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the outbox row that produced it: a redelivery after a crash adds nothing twice
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


async def keep(
    session: AsyncSession,
    *,
    staff_id: int,
    channel: str,
    thread: str,
    reply: dict[str, Any],
    source_key: str,
) -> bool:
    """Keep one reply for later; ``False`` if ``source_key`` was kept already."""
    seen = await session.execute(
        select(Notification.id).where(Notification.source_key == source_key)
    )
    if seen.first() is not None:
        return False
    session.add(
        Notification(
            staff_id=staff_id, channel=channel, thread=thread, reply=reply, source_key=source_key
        )
    )
    return True


async def take_pending(session: AsyncSession, staff_id: int, now: datetime) -> list[dict[str, Any]]:
    """Undelivered replies (as stored JSON) for this person, kept on whichever channel,
    oldest first, marked delivered: one statement, so two turns at once (two channels, two
    replicas) never both take one reply."""
    taken = await session.execute(
        update(Notification)
        .where(Notification.staff_id == staff_id, Notification.delivered_at.is_(None))
        .values(delivered_at=now)
        .returning(Notification.id, Notification.reply)
    )
    return [reply for _, reply in sorted(taken.all(), key=lambda row: row[0])]


async def any_unseen(session: AsyncSession, staff_id: int) -> bool:
    """Whether news kept for this person still waits to be shown, on any channel."""
    query = select(Notification.id).where(
        Notification.staff_id == staff_id, Notification.delivered_at.is_(None)
    )
    return (await session.execute(query.limit(1))).first() is not None


async def kept_count(session: AsyncSession) -> int:
    """How many notifications wait, kept for their person's next turn (for ``/metrics``)."""
    query = select(func.count(Notification.id)).where(Notification.delivered_at.is_(None))
    return int((await session.execute(query)).scalar_one())
