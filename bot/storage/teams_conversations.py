"""Teams' own table: where each person talks to the bot in Teams (a conversation reference).

Owned by the Teams channel (the desk knows nothing of it); kept here because channels build
no SQL. One row per Teams user: the personal chat's conversation id and the Bot Connector's
``serviceUrl`` (needed to write to them later: ticket news, ratings, notices), their Entra
object id and the staff record the member lookup mapped them to. ``updated_at`` also says
how fresh that mapping is, so the member lookup is not asked on every message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class TeamsConversation(Base):
    """A Teams user's conversation reference and who they are."""

    __tablename__ = "teams_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the Teams user id (``from.id``, ``29:...``)
    user_id: Mapped[str] = mapped_column(String(200), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), default="")
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    service_url: Mapped[str] = mapped_column(String(300))
    #: the personal chat with the bot ("" until the person writes to it there)
    conversation_id: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


async def by_user(session: AsyncSession, user_id: str) -> TeamsConversation | None:
    query = select(TeamsConversation).where(TeamsConversation.user_id == user_id)
    return (await session.execute(query)).scalar_one_or_none()


async def by_staff(session: AsyncSession, staff_id: int) -> TeamsConversation | None:
    query = select(TeamsConversation).where(TeamsConversation.staff_id == staff_id)
    return (await session.execute(query)).scalar_one_or_none()


async def remember(
    session: AsyncSession,
    *,
    user_id: str,
    staff_id: int,
    aad_object_id: str,
    tenant_id: str,
    service_url: str,
    conversation_id: str | None,
    now: datetime,
) -> TeamsConversation:
    """Record (or refresh) where ``user_id`` is; ``conversation_id`` only for a personal chat.

    A staff record has one Teams user: another row for the same person lets go first.
    """
    row = await by_user(session, user_id)
    other = await by_staff(session, staff_id)
    if other is not None and (row is None or other.id != row.id):
        await session.delete(other)
        await session.flush()
    if row is None:
        row = TeamsConversation(user_id=user_id, staff_id=staff_id, service_url=service_url)
        session.add(row)
    row.staff_id = staff_id
    row.aad_object_id = aad_object_id
    row.tenant_id = tenant_id
    row.service_url = service_url
    if conversation_id:
        row.conversation_id = conversation_id
    row.updated_at = now
    return row


async def export(session: AsyncSession, staff_id: int) -> dict[str, Any] | None:
    """What is held about the person here, for a subject access request."""
    row = await by_staff(session, staff_id)
    if row is None:
        return None
    return {
        "user_id": row.user_id,
        "aad_object_id": row.aad_object_id,
        "tenant_id": row.tenant_id,
        "conversation_id": row.conversation_id,
        "updated_at": row.updated_at.isoformat(),
    }
