"""What the per-council report counts, one text-free row per event, kept after a purge.

The privacy purge removes turn texts and ticket transcripts; the report must still add up
afterwards, so every event it counts is written here as it happens, with no free text:
when, which council and channel, the conversation (a plain id, no foreign key), the person
(set to ``NULL`` when they are erased), the intent, the article, the topic (a ticket
category), a rating, a ticket reference, minutes of agent time.

Kinds (:data:`KINDS`):

* ``answer``: an article shown as the answer (``rating`` becomes ``yes``/``no`` when the
  person presses Yes or No; ``deflect_until`` is 3 working days later on the desk's calendar).
* ``none_of_these``: a choice of articles rejected.
* ``unanswered``: a question the knowledge base could not answer (the bot declined).
* ``ticket``: a ticket raised in a conversation.
* ``reopened``: a resolved or closed ticket reopened (``staff_id`` is its requester).
* ``time_spent``: minutes an agent logged on a ticket (``staff_id`` is the agent).
* ``turn``: any other turn (counts the conversation, nothing else).

>>> await record(session, kind="answer", at=now, council="dacorum", channel="web",
...              conversation_id=7, staff_id=3, article_id="share-calendar")  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.desk.calendar import WorkingCalendar
from bot.desk.errors import InvalidChange
from bot.desk.tickets import OPEN_STATUSES, Ticket, TicketEvent
from bot.storage.models import Base

KINDS = ("answer", "none_of_these", "unanswered", "ticket", "reopened", "time_spent", "turn")
#: working days after an answer in which a ticket on the same topic undoes its deflection
DEFLECTION_WORKING_DAYS = 3
#: the most minutes one entry of time spent may hold (a working day and a half)
MAX_MINUTES = 720


class Activity(Base):
    """One counted event (see the module's docstring); never any text a person wrote."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_kind_at", "kind", "at", "council"),
        Index("ix_activity_staff", "staff_id", "kind", "at"),
        Index("ix_activity_conversation", "conversation_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    council: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32), default="")
    conversation_id: Mapped[int | None] = mapped_column(default=None)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    intent: Mapped[str | None] = mapped_column(String(64), default=None)
    article_id: Mapped[str | None] = mapped_column(String(200), default=None)
    #: a ticket category ("email", "sign-in", ...) when the topic is known
    category: Mapped[str | None] = mapped_column(String(32), default=None)
    #: on an answer: "yes" or "no" once the person said whether it helped
    rating: Mapped[str | None] = mapped_column(String(8), default=None)
    ticket_ref: Mapped[str | None] = mapped_column(String(32), default=None)
    minutes: Mapped[int | None] = mapped_column(default=None)
    #: on an answer: until when a ticket on the same topic counts against it
    deflect_until: Mapped[datetime | None] = mapped_column(default=None)
    #: on an answer: the ticket raised or reopened on its topic in time, which undid it
    undone_by: Mapped[str | None] = mapped_column(String(32), default=None)


async def record(session: AsyncSession, **values: object) -> Activity:
    """Add one row (``kind``, ``at`` and ``council`` are required)."""
    row = Activity(**values)
    if row.kind not in KINDS:
        raise ValueError(f"unknown activity kind {row.kind!r}")
    session.add(row)
    return row


def deflection_deadline(calendar: WorkingCalendar, at: datetime) -> datetime:
    """When an answer given ``at`` stops being undone by a ticket on its topic."""
    return calendar.add_working_days(at, DEFLECTION_WORKING_DAYS)


async def rate_answer(
    session: AsyncSession, *, conversation_id: int, article_id: str, helpful: bool
) -> bool:
    """Put the person's Yes or No on the latest answer of ``article_id`` in the
    conversation; whether there was one."""
    row = await session.scalar(
        select(Activity)
        .where(
            Activity.kind == "answer",
            Activity.conversation_id == conversation_id,
            Activity.article_id == article_id,
        )
        .order_by(Activity.at.desc(), Activity.id.desc())
        .limit(1)
    )
    if row is None:
        return False
    row.rating = "yes" if helpful else "no"
    return True


async def undo_deflection(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """A ticket raised (or reopened) ``now``: the requester's answers on its topic whose
    window is still open did not deflect it. Marked as it happens (by the conversation
    engine for a ticket raised in a conversation, by :func:`reopened` for a reopening), so
    the report counts with one pass and no per-answer look-ups.

    Same topic: the answer's category is the ticket's, or the ticket's is ``other``, or
    the answer's topic is unknown (counted against it rather than claimed as a success).
    """
    topic = (
        []
        if ticket.category == "other"
        else [or_(Activity.category.is_(None), Activity.category == ticket.category)]
    )
    await session.execute(
        update(Activity)
        .where(
            Activity.kind == "answer",
            Activity.staff_id == ticket.requester_id,
            Activity.at <= now,
            Activity.deflect_until >= now,
            Activity.undone_by.is_(None),
            *topic,
        )
        .values(undone_by=ticket.ref)
        .execution_options(synchronize_session=False)
    )


async def reopened(session: AsyncSession, ticket: Ticket, before: str, now: datetime) -> None:
    """Count a resolved or closed ticket that went back into the queue; it undoes the
    requester's recent answers on its topic like a new ticket would."""
    if before in OPEN_STATUSES or ticket.status not in OPEN_STATUSES:
        return
    session.add(
        Activity(
            kind="reopened",
            at=now,
            council=ticket.council,
            channel=ticket.reply_channel,
            staff_id=ticket.requester_id,
            category=ticket.category,
            ticket_ref=ticket.ref,
        )
    )
    await undo_deflection(session, ticket, now)


def time_spent(
    session: AsyncSession,
    ticket: Ticket,
    *,
    agent_id: int,
    agent_email: str,
    minutes: int,
    now: datetime,
) -> None:
    """Minutes an agent spent on ``ticket``: a line in its history and a counted row."""
    if not 0 < minutes <= MAX_MINUTES:
        raise InvalidChange(f"Time spent should be whole minutes from 1 to {MAX_MINUTES}.")
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            created_at=now,
            actor=agent_email,
            kind="time_spent",
            details={"minutes": minutes},
        )
    )
    session.add(
        Activity(
            kind="time_spent",
            at=now,
            council=ticket.council,
            staff_id=agent_id,
            category=ticket.category,
            ticket_ref=ticket.ref,
            minutes=minutes,
        )
    )
