"""Which staff record a Slack user id names (the ``staff.slack_user_id`` column).

The Slack channel caches who a Slack user is here, so every replica shares the answer.

>>> staff = await by_slack_user(session, "U123")     # doctest: +SKIP
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Staff


async def by_slack_user(session: AsyncSession, user_id: str) -> Staff | None:
    query = select(Staff).where(Staff.slack_user_id == user_id)
    return (await session.execute(query)).scalar_one_or_none()


async def release_slack_user(session: AsyncSession, user_id: str, *, keep_email: str) -> None:
    """The Slack account moved to ``keep_email``: any other record lets go of its id."""
    await session.execute(
        update(Staff)
        .where(Staff.slack_user_id == user_id, Staff.email != keep_email)
        .values(slack_user_id=None)
    )
