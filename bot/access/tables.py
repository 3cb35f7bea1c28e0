"""The tables of access resets: one-time codes (hashed) and finished resets (for throttles).

Neither holds a secret in plain text: a code is kept as a salted scrypt hash, a temporary
password not at all. Both are shared by every replica, so the limits hold across them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class OneTimeCode(Base):
    """One code sent to someone: what it is for, where it went (masked), how it ended."""

    __tablename__ = "access_codes"
    __table_args__ = (
        Index("ix_access_codes_requester", "requester_id", "created_at"),
        Index("ix_access_codes_subject", "subject", "purpose", "ended"),
        Index("ix_access_codes_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: reset_password, unlock_account, reset_mfa, sign_in
    purpose: Mapped[str] = mapped_column(String(32))
    #: the account it proves (a work email, lower case)
    subject: Mapped[str] = mapped_column(String(320))
    #: who asked for it (``None`` for a web sign-in before anyone is known)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    sent_to: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    wrong_tries: Mapped[int] = mapped_column(default=0)
    #: "" while it can be used; then used, too_many_tries, expired or replaced
    ended: Mapped[str] = mapped_column(String(16), default="")
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class AccessReset(Base):
    """A change made to an account: counted by the per-account limit."""

    __tablename__ = "access_resets"
    __table_args__ = (
        Index("ix_access_resets_subject", "subject", "done_at"),
        Index("ix_access_resets_done", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(320))
    #: reset_password, unlock_account, reset_mfa
    operation: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="")
    directory: Mapped[str] = mapped_column(String(16), default="")
    done_at: Mapped[datetime] = mapped_column(default=utcnow)
