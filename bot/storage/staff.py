"""Staff records: who is asking, and who the service desk's agents are."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Staff


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def get(session: AsyncSession, staff_id: int) -> Staff | None:
    return await session.get(Staff, staff_id)


async def get_by_email(session: AsyncSession, email: str) -> Staff | None:
    result = await session.execute(select(Staff).where(Staff.email == normalise_email(email)))
    return result.scalar_one_or_none()


async def get_or_create(
    session: AsyncSession,
    *,
    email: str,
    council: str,
    display_name: str = "",
    slack_user_id: str | None = None,
) -> Staff:
    """The staff record for ``email``, created on first contact; council follows the domain."""
    email = normalise_email(email)
    staff = await get_by_email(session, email)
    if staff is None:
        staff = Staff(
            email=email,
            council=council,
            display_name=display_name or email.split("@")[0].replace(".", " ").title(),
            slack_user_id=slack_user_id,
        )
        try:
            async with session.begin_nested():
                session.add(staff)
        except IntegrityError:  # another replica created it at the same moment
            found = await get_by_email(session, email)
            if found is None:
                raise
            staff = found
    if staff.council != council:
        staff.council = council
    if slack_user_id and staff.slack_user_id != slack_user_id:
        staff.slack_user_id = slack_user_id
    return staff


async def agents(session: AsyncSession, *, limit: int = 500) -> list[Staff]:
    """Everyone a ticket can be assigned to, by name."""
    query = select(Staff).where(Staff.is_agent.is_(True)).order_by(Staff.display_name).limit(limit)
    return list((await session.execute(query)).scalars().all())
