"""The web chat's sessions: one row per signed-in browser, the cookie's id stored hashed.

Owned by the web chat channel; kept here because channels build no SQL. The cookie holds a
random 32-byte id; the table keeps only its SHA-256, so a copy of the database gives no
live session away. A session starts *unproven* (a typed address: questions only) and
becomes proven when the person types the code sent to that mailbox, which also gives it a
new id (the old row is revoked: no session fixation). Signing out revokes the row.

>>> token_hash("abc")[:12]
'ba7816bf8f01'
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class WebSession(Base):
    """One browser's chat session: who it says it is, whether that is proven, how long."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: hex SHA-256 of the random id in the cookie (the id itself is never stored)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    #: the person typed the code sent to ``email`` (or the session came from SSO)
    proven: Mapped[bool] = mapped_column(default=False)
    #: the sign-in code waiting to be typed (``access_codes.id``), if any
    code_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


def new_token() -> str:
    """A fresh random session id for the cookie (32 bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(
    session: AsyncSession, *, email: str, proven: bool, now: datetime, hours: int
) -> tuple[str, WebSession]:
    """A new session for ``email``: (the id for the cookie, the stored row)."""
    token = new_token()
    row = WebSession(
        token_hash=token_hash(token),
        email=email,
        proven=proven,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        last_seen=now,
    )
    session.add(row)
    await session.flush()
    return token, row


async def find(session: AsyncSession, token: str, *, now: datetime) -> WebSession | None:
    """The live session whose cookie holds ``token`` (not expired, not revoked)."""
    query = select(WebSession).where(
        WebSession.token_hash == token_hash(token),
        WebSession.revoked_at.is_(None),
        WebSession.expires_at > now,
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is not None:
        row.last_seen = now
    return row


def revoke(row: WebSession, now: datetime) -> None:
    row.revoked_at = now
    row.code_id = None


async def prove(
    session: AsyncSession, row: WebSession, *, now: datetime, hours: int
) -> tuple[str, WebSession]:
    """The code was right: a new, proven session replaces ``row`` (which is revoked)."""
    revoke(row, now)
    return await start(session, email=row.email, proven=True, now=now, hours=hours)
