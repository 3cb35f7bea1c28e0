"""Mail the email channel could not act on: tried again later, then set aside.

Kept in ``email_messages`` itself (no table of its own), so every replica shares it and
it survives a restart: ``outcome`` is ``failed:<attempts>`` and ``created_at`` the time
the mail may be tried again; after the last attempt the outcome is ``set-aside`` and
``created_at`` the time it was given up on.

>>> _failure("failed:2", datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
Failure(attempts=2, retry_at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.timezone.utc))
>>> _failure("set-aside", datetime(2026, 1, 5, tzinfo=UTC)).retry_at is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.email_mail import EmailMessage, message_key, record

#: the outcome of a mail that failed and waits: ``failed:<attempts made>``
FAILED = "failed:"
#: the outcome of a mail given up on (left in the mailbox for a person)
SET_ASIDE = "set-aside"


@dataclass(frozen=True)
class Failure:
    """A mail that could not be acted on: the attempts made, and when it may be tried
    again (``None``: it is set aside)."""

    attempts: int
    retry_at: datetime | None


async def claim(
    session: AsyncSession, key: str, *, sender: str, now: datetime
) -> EmailMessage | None:
    """:func:`~bot.storage.email_mail.record`, and a failed mail whose time has come is
    claimed again; ``None`` if the mail was acted on, or waits, or is set aside.

    A failed mail is claimed with a compare-and-set on its outcome, so of two replicas one
    wins; if acting on it fails again, the caller's rollback gives the row back.
    """
    found = await session.execute(
        select(EmailMessage.id, EmailMessage.outcome, EmailMessage.created_at).where(
            EmailMessage.key == message_key(key)
        )
    )
    existing = found.first()
    if existing is None:
        return await record(session, key, sender=sender, now=now)
    row_id, outcome, when = existing
    before = _failure(outcome, when)
    if before is None or before.retry_at is None or before.retry_at > now:
        return None
    won = await session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == row_id, EmailMessage.outcome == outcome)
        .values(outcome="claimed", created_at=now)
    )
    if getattr(won, "rowcount", 0) != 1:
        return None
    return await session.get(EmailMessage, row_id, populate_existing=True)


async def failure(session: AsyncSession, key: str) -> Failure | None:
    """Whether the mail with this key failed before (and waits, or is set aside)."""
    found = await session.execute(
        select(EmailMessage.outcome, EmailMessage.created_at).where(
            EmailMessage.key == message_key(key)
        )
    )
    row = found.first()
    return _failure(row[0], row[1]) if row is not None else None


async def record_failure(
    session: AsyncSession,
    key: str,
    *,
    sender: str,
    now: datetime,
    first_wait: timedelta,
    max_attempts: int,
) -> Failure:
    """One more failed attempt at the mail: it waits ``first_wait``, doubled for each
    attempt before, or after ``max_attempts`` attempts it is set aside."""
    for _ in range(3):  # another replica recorded the same mail meanwhile: read it again
        found = await session.execute(
            select(EmailMessage.id, EmailMessage.outcome, EmailMessage.created_at).where(
                EmailMessage.key == message_key(key)
            )
        )
        existing = found.first()
        before = _failure(existing[1], existing[2]) if existing is not None else None
        if before is not None and before.retry_at is None:
            return before  # set aside already
        attempts = (before.attempts if before is not None else 0) + 1
        retry_at: datetime | None = None
        if attempts >= max_attempts:
            outcome, when = SET_ASIDE, now
        else:
            retry_at = now + first_wait * 2 ** (attempts - 1)
            outcome, when = f"{FAILED}{attempts}", retry_at
        if existing is None:
            row = EmailMessage(
                key=message_key(key), sender=sender[:320], outcome=outcome, created_at=when
            )
            try:
                async with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                continue
            return Failure(attempts, retry_at)
        won = await session.execute(
            update(EmailMessage)
            .where(EmailMessage.id == existing[0], EmailMessage.outcome == existing[1])
            .values(outcome=outcome, created_at=when)
        )
        if getattr(won, "rowcount", 0) == 1:
            return Failure(attempts, retry_at)
    raise RuntimeError("the failed mail could not be recorded: it changed under us")


def _failure(outcome: str, when: datetime) -> Failure | None:
    if outcome == SET_ASIDE:
        return Failure(0, None)
    count = outcome.removeprefix(FAILED)
    if outcome.startswith(FAILED) and count.isdigit():
        # SQLite may give back a naive datetime; it was written in UTC
        return Failure(int(count), when if when.tzinfo is not None else when.replace(tzinfo=UTC))
    return None
