"""The email channel's own tables: mail read once, mail we send, attachments kept.

Owned by the email channel (the desk knows nothing of them); kept here because channels
build no SQL.

* ``email_messages``: every mail read from the desk's mailbox, by its key (the
  ``Message-ID``, else the mailbox's UID). The row is written in the same transaction as
  the ticket or comment the mail made, so a mail is acted on once across replicas and
  restarts; its ``Message-ID`` also ties later replies to the ticket.
* ``email_outgoing``: every mail the channel sends, written before it is sent (an outbox
  of its own): its ``Message-ID`` ties replies to the ticket, ``sent_at`` says it went,
  the counts per recipient rate-limit replies and refusals.
* ``email_attachments``: files that came with a mail, kept with its ticket (the desk has
  no attachment store).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow

#: the longest key kept as it is; longer ones are kept as their SHA-256
KEY_LENGTH = 255


def message_key(message_id: str) -> str:
    """A ``Message-ID`` as a key that fits its column (a SHA-256 when it is too long).

    >>> message_key("<abc@councils.example>")
    '<abc@councils.example>'
    >>> len(message_key("<" + "x" * 400 + ">"))
    71
    """
    value = message_id.strip()
    if len(value) <= KEY_LENGTH:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


class EmailMessage(Base):
    """A mail read from the desk's mailbox, and what was done with it."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    sender: Mapped[str] = mapped_column(String(320), default="")
    #: ``ticket``, ``comment``, ``solved``, ``bounce``, ``automatic``, ``refused``, ``ignored``;
    #: ``failed:<attempts>`` or ``set-aside`` for a mail that could not be acted on
    outcome: Mapped[str] = mapped_column(String(16))
    #: when it was acted on; for a ``failed:`` mail, when it may be tried again
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailOutgoing(Base):
    """A mail the channel sends: queued in the transaction that decided it, then sent."""

    __tablename__ = "email_outgoing"
    __table_args__ = (
        Index("ix_email_outgoing_ticket", "ticket_id"),
        Index("ix_email_outgoing_recipient", "recipient", "created_at"),
        Index("ix_email_outgoing_unsent", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    recipient: Mapped[str] = mapped_column(String(320))
    #: ``reply`` (to a new mail), ``refusal``, ``update`` (ticket news)
    kind: Mapped[str] = mapped_column(String(16))
    #: the whole message as sent (RFC 5322 text)
    raw: Mapped[str] = mapped_column(Text)
    #: what queued it (an outbox row's key), so a retried delivery queues it once
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)


class EmailAttachment(Base):
    """A file that came with a mail about a ticket."""

    __tablename__ = "email_attachments"
    __table_args__ = (Index("ix_email_attachments_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def seen(session: AsyncSession, key: str) -> bool:
    """Whether the mail with this key has been acted on (by any replica)."""
    query = select(EmailMessage.id).where(EmailMessage.key == message_key(key))
    found = await session.execute(query)
    return found.first() is not None


async def record(
    session: AsyncSession, key: str, *, sender: str, now: datetime
) -> EmailMessage | None:
    """Claim the mail as acted on (the caller fills in what it did); ``None`` if another
    transaction already has.

    Inside a savepoint, so a clash leaves the caller's transaction usable.
    """
    if await seen(session, key):
        return None
    row = EmailMessage(key=message_key(key), sender=sender[:320], outcome="claimed", created_at=now)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


async def ticket_for(session: AsyncSession, message_ids: Iterable[str]) -> int | None:
    """The ticket a mail replying to ``message_ids`` belongs to: one of ours (sent) or a
    mail that raised or commented on it (read); the newest match wins."""
    keys = [message_key(m) for m in message_ids if m.strip()]
    if not keys:
        return None
    ours = await session.execute(
        select(EmailOutgoing.ticket_id)
        .where(EmailOutgoing.message_id.in_(keys), EmailOutgoing.ticket_id.is_not(None))
        .order_by(EmailOutgoing.id.desc())
        .limit(1)
    )
    found = ours.scalar_one_or_none()
    if found is not None:
        return found
    theirs = await session.execute(
        select(EmailMessage.ticket_id)
        .where(EmailMessage.key.in_(keys), EmailMessage.ticket_id.is_not(None))
        .order_by(EmailMessage.id.desc())
        .limit(1)
    )
    return theirs.scalar_one_or_none()


async def thread_of(session: AsyncSession, ticket_id: int) -> list[str]:
    """The Message-IDs of the ticket's thread, oldest first (for ``References``)."""
    read = await session.execute(
        select(EmailMessage.key, EmailMessage.created_at).where(
            EmailMessage.ticket_id == ticket_id, EmailMessage.key.like("<%")
        )
    )
    sent = await session.execute(
        select(EmailOutgoing.message_id, EmailOutgoing.created_at).where(
            EmailOutgoing.ticket_id == ticket_id
        )
    )
    rows = sorted([*read.all(), *sent.all()], key=lambda row: row[1])
    return [str(row[0]) for row in rows]


async def queue(
    session: AsyncSession,
    *,
    message_id: str,
    recipient: str,
    kind: str,
    raw: str,
    ticket_id: int | None,
    now: datetime,
    source_key: str | None = None,
) -> bool:
    """Queue a mail to send after the transaction commits; ``False`` if ``source_key``
    queued one already."""
    if source_key is not None:
        found = await session.execute(
            select(EmailOutgoing.id).where(EmailOutgoing.source_key == source_key)
        )
        if found.first() is not None:
            return False
    session.add(
        EmailOutgoing(
            message_id=message_key(message_id),
            recipient=recipient.lower()[:320],
            kind=kind,
            raw=raw,
            ticket_id=ticket_id,
            source_key=source_key,
            created_at=now,
        )
    )
    await session.flush()
    return True


async def sent_to(
    session: AsyncSession, recipient: str, since: datetime, kind: str | None = None
) -> int:
    """How many mails (of ``kind``) were queued to ``recipient`` since ``since``."""
    query = (
        select(func.count())
        .select_from(EmailOutgoing)
        .where(EmailOutgoing.recipient == recipient.lower(), EmailOutgoing.created_at >= since)
    )
    if kind is not None:
        query = query.where(EmailOutgoing.kind == kind)
    return int(await session.scalar(query) or 0)


async def claim_unsent(
    session: AsyncSession,
    now: datetime,
    *,
    lease: timedelta,
    max_attempts: int,
    limit: int = 20,
) -> list[EmailOutgoing]:
    """Unsent mails no other sender holds and not given up on (``max_attempts`` made),
    now held by this one for ``lease``."""
    free = and_(
        or_(EmailOutgoing.sending_at.is_(None), EmailOutgoing.sending_at < now - lease),
        EmailOutgoing.attempts < max_attempts,
    )
    ids = (
        await session.scalars(
            select(EmailOutgoing.id)
            .where(EmailOutgoing.sent_at.is_(None), free)
            .order_by(EmailOutgoing.id)
            .limit(limit)
        )
    ).all()
    claimed: list[EmailOutgoing] = []
    for row_id in ids:
        # compare-and-set: of two replicas reading the same row, one wins it
        won = await session.execute(
            update(EmailOutgoing)
            .where(EmailOutgoing.id == row_id, EmailOutgoing.sent_at.is_(None), free)
            .values(sending_at=now, attempts=EmailOutgoing.attempts + 1)
        )
        if getattr(won, "rowcount", 0) == 1:
            row = await session.get(EmailOutgoing, row_id, populate_existing=True)
            if row is not None:
                claimed.append(row)
    return claimed


async def retry_after(
    session: AsyncSession, row_id: int, when: datetime, *, lease: timedelta
) -> None:
    """Let a mail that failed be claimed again from ``when`` (its lease ends then)."""
    await session.execute(
        update(EmailOutgoing)
        .where(EmailOutgoing.id == row_id, EmailOutgoing.sent_at.is_(None))
        .values(sending_at=when - lease)
    )


async def mark_sent(session: AsyncSession, row_id: int, now: datetime) -> None:
    await session.execute(
        update(EmailOutgoing).where(EmailOutgoing.id == row_id).values(sent_at=now)
    )


async def keep_attachment(
    session: AsyncSession,
    *,
    ticket_id: int,
    message_key_: str,
    filename: str,
    content_type: str,
    data: bytes,
    now: datetime,
) -> None:
    session.add(
        EmailAttachment(
            ticket_id=ticket_id,
            message_key=message_key(message_key_),
            filename=filename[:255],
            content_type=content_type[:127],
            size=len(data),
            data=data,
            created_at=now,
        )
    )


async def attachments(session: AsyncSession, ticket_id: int) -> list[EmailAttachment]:
    rows = await session.scalars(
        select(EmailAttachment)
        .where(EmailAttachment.ticket_id == ticket_id)
        .order_by(EmailAttachment.id)
    )
    return list(rows)
