"""Conversation state and the transcript of turns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Conversation, Staff, Turn, utcnow


async def load_for_update(
    session: AsyncSession, staff: Staff, channel: str, thread: str
) -> Conversation:
    """The conversation row for (staff, channel, thread), locked for this unit of work.

    On PostgreSQL the row is locked ``FOR UPDATE`` so two replicas handling two
    messages from one person take turns instead of overwriting each other's state.
    """
    query = (
        select(Conversation)
        .where(
            Conversation.staff_id == staff.id,
            Conversation.channel == channel,
            Conversation.thread == thread,
        )
        .with_for_update(of=Conversation)
    )
    conversation = (await session.execute(query)).unique().scalar_one_or_none()
    if conversation is not None:
        return conversation
    conversation = Conversation(staff_id=staff.id, channel=channel, thread=thread, data={})
    try:
        async with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        return (await session.execute(query)).unique().scalar_one()
    return conversation


async def find(
    session: AsyncSession, staff_id: int, channel: str, thread: str
) -> Conversation | None:
    """The conversation row for (staff, channel, thread), to read (no lock, none created)."""
    query = select(Conversation).where(
        Conversation.staff_id == staff_id,
        Conversation.channel == channel,
        Conversation.thread == thread,
    )
    return (await session.execute(query)).unique().scalar_one_or_none()


def save_state(
    conversation: Conversation,
    *,
    flow: str | None,
    step: str | None,
    data: dict[str, Any],
    now: datetime | None = None,
) -> None:
    conversation.flow = flow
    conversation.step = step
    conversation.data = dict(data)
    conversation.updated_at = now or utcnow()


async def add_turn(session: AsyncSession, conversation: Conversation, **values: Any) -> Turn:
    turn = Turn(conversation_id=conversation.id, **values)
    session.add(turn)
    return turn


async def last_channel(session: AsyncSession, staff_id: int) -> str | None:
    """The channel of this person's most recent conversation turn, if they ever had one."""
    query = (
        select(Conversation.channel)
        .where(Conversation.staff_id == staff_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def last_turn_id(session: AsyncSession, conversation_id: int) -> int:
    """The id of the conversation's newest turn (0 if it has none): later turns have higher ids."""
    query = select(func.max(Turn.id)).where(Turn.conversation_id == conversation_id)
    return int((await session.execute(query)).scalar() or 0)


async def transcript(
    session: AsyncSession, conversation_id: int, limit: int = 50
) -> Sequence[Turn]:
    query = (
        select(Turn)
        .where(Turn.conversation_id == conversation_id)
        .order_by(Turn.created_at.desc(), Turn.id.desc())
        .limit(limit)
    )
    turns = (await session.execute(query)).scalars().all()
    return list(reversed(turns))


async def recent_turn_details(
    session: AsyncSession, outcomes: Sequence[str], *, since: datetime, limit: int
) -> list[dict[str, Any]]:
    """The ``details`` of the newest turns since ``since`` that ended in one of ``outcomes``."""
    query = (
        select(Turn.details)
        .where(Turn.outcome.in_(outcomes), Turn.created_at >= since)
        .order_by(Turn.id.desc())
        .limit(limit)
    )
    return [details or {} for details in (await session.execute(query)).scalars().all()]


async def turns_since(session: AsyncSession, staff_id: int, since: datetime) -> int:
    """How many turns a person has had, on any channel, since ``since``."""
    query = (
        select(func.count(Turn.id))
        .join(Conversation, Conversation.id == Turn.conversation_id)
        .where(Conversation.staff_id == staff_id, Turn.created_at > since)
    )
    return int((await session.execute(query)).scalar_one())
