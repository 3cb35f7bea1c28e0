"""Agent accounts, sessions and the sign-in rate limit, in the database.

Everything here takes the session of the caller's unit of work; nothing is kept in
process memory, so any number of replicas share one rate limit and one set of sessions.

>>> async with db.session() as s, s.begin():                            # doctest: +SKIP
...     await add_agent(s, email="pat.lee@dacorum.gov.uk", council="dacorum",
...                     password_hash=hash_password(password), now=now)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import staff as staff_repo
from bot.storage.models import Staff
from bot.web.desk.models import DeskAccount, DeskLoginAttempt, DeskSession

SESSION_LIFETIME = timedelta(hours=12)
#: failed sign-ins allowed per email + IP address within FAILURE_WINDOW
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who a session cookie belongs to, as read on each request."""

    staff_id: int
    email: str
    name: str
    is_agent: bool
    csrf_token: str
    expires_at: datetime


def token_id(token: str) -> str:
    """The key a session is stored under: the token itself is only ever in the cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


async def get_account(session: AsyncSession, email: str) -> DeskAccount | None:
    query = select(DeskAccount).where(DeskAccount.email == staff_repo.normalise_email(email))
    return (await session.execute(query)).scalar_one_or_none()


async def mark_agent(session: AsyncSession, *, email: str, council: str) -> Staff:
    """The staff record for ``email`` (created if need be), marked as a service desk agent."""
    staff = await staff_repo.get_or_create(session, email=email, council=council)
    staff.is_agent = True
    staff.agent_via = "manual"  # an explicit grant: kept whatever the list or group says
    return staff


async def add_agent(
    session: AsyncSession, *, email: str, council: str, password_hash: str | None, now: datetime
) -> tuple[Staff, DeskAccount | None]:
    """Make ``email`` an agent; with a hash, create the account or replace its password
    (which signs out its sessions). Without one (single sign-on), only mark the agent."""
    staff = await mark_agent(session, email=email, council=council)
    if password_hash is None:
        return staff, None
    account = await get_account(session, email)
    if account is None:
        account = DeskAccount(email=staff.email, password_hash=password_hash, created_at=now)
        session.add(account)
    else:
        account.password_hash = password_hash
        await session.execute(delete(DeskSession).where(DeskSession.account_id == account.id))
    await session.flush()
    return staff, account


async def note_attempt(session: AsyncSession, *, email: str, ip: str, now: datetime) -> int:
    """Record a sign-in attempt; the attempts for ``email`` + ``ip`` in the window, this
    one included. Recording first means concurrent guesses cannot slip past the limit."""
    await session.execute(
        delete(DeskLoginAttempt).where(DeskLoginAttempt.created_at < now - FAILURE_WINDOW)
    )
    session.add(DeskLoginAttempt(email=email, ip=ip, created_at=now))
    await session.flush()
    query = select(func.count()).where(
        DeskLoginAttempt.email == email,
        DeskLoginAttempt.ip == ip,
        DeskLoginAttempt.created_at >= now - FAILURE_WINDOW,
    )
    return int((await session.execute(query)).scalar_one())


async def clear_attempts(session: AsyncSession, *, email: str, ip: str) -> None:
    await session.execute(
        delete(DeskLoginAttempt).where(DeskLoginAttempt.email == email, DeskLoginAttempt.ip == ip)
    )


async def start_session(
    session: AsyncSession, account: DeskAccount, *, now: datetime
) -> tuple[str, DeskSession]:
    """A new session for ``account``: (the token for the cookie, the stored row)."""
    await session.execute(delete(DeskSession).where(DeskSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    row = DeskSession(
        id=token_id(token),
        account_id=account.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    account.last_login_at = now
    await session.flush()
    return token, row


async def session_user(session: AsyncSession, token: str, *, now: datetime) -> SessionInfo | None:
    """Whoever holds ``token``, if the session is live and its staff record exists."""
    query = (
        select(
            Staff.id,
            Staff.email,
            Staff.display_name,
            Staff.is_agent,
            DeskSession.csrf_token,
            DeskSession.expires_at,
        )
        .join(DeskAccount, DeskSession.account_id == DeskAccount.id)
        .join(Staff, Staff.email == DeskAccount.email)
        .where(DeskSession.id == token_id(token), DeskSession.expires_at > now)
    )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    staff_id, email, name, is_agent, csrf_token, expires_at = found
    return SessionInfo(staff_id, email, name, is_agent, csrf_token, expires_at)


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(DeskSession).where(DeskSession.id == token_id(token)))


async def agents(session: AsyncSession) -> list[Staff]:
    """Everyone a ticket can be assigned to, by name."""
    query = select(Staff).where(Staff.is_agent.is_(True)).order_by(Staff.display_name).limit(500)
    return list((await session.execute(query)).scalars().all())
