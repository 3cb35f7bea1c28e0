"""Dashboard accounts, their sessions and login attempts (tables from migration 0004).

Passwords are never stored: ``password_hash`` is an scrypt string with its own salt and
parameters (see :mod:`bot.web.desk.passwords`). A session row is keyed by the SHA-256 of
the cookie's token, so a copy of the database does not hold usable session cookies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models import Base, utcnow


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
    """A sign-in attempt not (yet) followed by a success, for rate limiting per email + IP."""

    __tablename__ = "desk_login_attempts"
    __table_args__ = (
        Index("ix_desk_login_attempts_key", "email", "ip", "created_at"),
        Index("ix_desk_login_attempts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
