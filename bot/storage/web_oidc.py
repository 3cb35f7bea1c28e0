"""OIDC sign-ins under way in the web chat: one row per trip to the provider, used once.

Owned by the web chat channel; kept here because channels build no SQL. Starting a
sign-in stores the SHA-256 of its ``state`` and of a random browser key (the key lives in
a short-lived cookie; the PKCE verifier and the nonce are derived from it, so nothing a
copy of the database holds can finish a sign-in). The callback takes the row once: a
replayed ``state``, another browser's, or one older than ten minutes is refused. Rows are
in the database rather than in memory so the callback may reach any replica.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base

#: how long a trip to the provider may take
PENDING_MINUTES = 10


class OidcPending(Base):
    """One sign-in sent to the provider and not yet back."""

    __tablename__ = "web_oidc_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: hex SHA-256 of the ``state`` sent to the provider
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: hex SHA-256 of the browser key in the ``itbot_oidc`` cookie
    browser_hash: Mapped[str] = mapped_column(String(64))
    #: where in the web chat to go afterwards (a path on this site)
    return_to: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def start(
    session: AsyncSession, *, state: str, browser_key: str, return_to: str, now: datetime
) -> None:
    """Remember a sign-in under way (and forget ones long finished or abandoned)."""
    await session.execute(
        delete(OidcPending).where(OidcPending.expires_at < now - timedelta(days=1))
    )
    session.add(
        OidcPending(
            state_hash=digest(state),
            browser_hash=digest(browser_key),
            return_to=return_to,
            created_at=now,
            expires_at=now + timedelta(minutes=PENDING_MINUTES),
        )
    )
    await session.flush()


async def take(
    session: AsyncSession, *, state: str, browser_key: str, now: datetime
) -> OidcPending | None:
    """The sign-in ``state`` started in this browser, used up now; ``None`` if it is not
    one, was used already, is another browser's or has expired."""
    row = (
        await session.execute(select(OidcPending).where(OidcPending.state_hash == digest(state)))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    if row.browser_hash != digest(browser_key):
        return None
    # the conditional update is what makes it single use when two callbacks race
    taken = await session.execute(
        update(OidcPending)
        .where(OidcPending.id == row.id, OidcPending.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    return row
