"""Agents' dashboard accounts, their sessions and the sign-in rate limit (migration 0004).

Passwords are never stored: ``password_hash`` is an scrypt string with its own salt and
parameters (see :mod:`bot.desk.passwords`). A session row is keyed by the SHA-256 of the
cookie's token, so a copy of the database does not hold usable session cookies.

Every function takes the session of the caller's unit of work; nothing is kept in process
memory, so any number of replicas share one rate limit and one set of sessions.

>>> async with db.session() as s, s.begin():                            # doctest: +SKIP
...     await add_agent(s, email="pat.lee@dacorum.gov.uk", council="dacorum",
...                     password_hash=hash_password(password), now=now)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage import staff as staff_repo
from bot.storage.models import Base, Staff, utcnow

SESSION_LIFETIME = timedelta(hours=12)
#: failed sign-ins allowed per email + IP address within FAILURE_WINDOW
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class DeskAccount(Base):
    """A service desk agent who signs in to ``/desk`` with a password."""

    __tablename__ = "desk_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class DeskSession(Base):
    """One signed-in browser: deleted at sign-out, useless after ``expires_at``."""

    __tablename__ = "desk_sessions"
    __table_args__ = (Index("ix_desk_sessions_expires", "expires_at"),)

    #: hex SHA-256 of the random token in the cookie
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("desk_accounts.id", ondelete="CASCADE"))
    #: the per-session token every form posts back (CSRF protection)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    account: Mapped[DeskAccount] = relationship(lazy="joined")


class DeskLoginAttempt(Base):
    """A sign-in attempt not (yet) followed by a success, for rate limiting per email + IP
    and per IP (the table only holds the last ``FAILURE_WINDOW``, so counting by IP is cheap)."""

    __tablename__ = "desk_login_attempts"
    __table_args__ = (
        Index("ix_desk_login_attempts_key", "email", "ip", "created_at"),
        Index("ix_desk_login_attempts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


async def account_by_id(session: AsyncSession, account_id: int) -> DeskAccount | None:
    return await session.get(DeskAccount, account_id)


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


async def remove_agent(session: AsyncSession, email: str) -> bool:
    """``email`` stops being an agent and loses its account (its sessions go with it);
    whether there was anything to take away."""
    email = staff_repo.normalise_email(email)
    staff = await staff_repo.get_by_email(session, email)
    if staff is not None:
        staff.is_agent = False
        staff.agent_via = None
    result = await session.execute(delete(DeskAccount).where(DeskAccount.email == email))
    return staff is not None or bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True, slots=True)
class Attempts:
    """Sign-in attempts in the window, this one included: for the email from this address,
    and from this address whatever the email (password spraying)."""

    pair: int
    address: int


async def note_attempt(session: AsyncSession, *, email: str, ip: str, now: datetime) -> Attempts:
    """Record a sign-in attempt and count the ones in the window. Recording first means
    concurrent guesses cannot slip past the limit."""
    await session.execute(
        delete(DeskLoginAttempt).where(DeskLoginAttempt.created_at < now - FAILURE_WINDOW)
    )
    session.add(DeskLoginAttempt(email=email, ip=ip, created_at=now))
    await session.flush()
    recent = DeskLoginAttempt.created_at >= now - FAILURE_WINDOW
    pair = select(func.count()).where(
        DeskLoginAttempt.email == email, DeskLoginAttempt.ip == ip, recent
    )
    address = select(func.count()).where(DeskLoginAttempt.ip == ip, recent)
    return Attempts(
        pair=int((await session.execute(pair)).scalar_one()),
        address=int((await session.execute(address)).scalar_one()),
    )


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
