"""The report's queries: each one pass over one table, grouped by council in SQL.

Every function returns plain rows (tuples) for :mod:`bot.insight.report` to assemble.
Expressions that take parameters (the report's clock, council domains) are computed in a
subquery and grouped outside it, so PostgreSQL sees one expression, not two copies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access.tables import AccessReset, OneTimeCode
from bot.desk.activity import Activity
from bot.desk.tickets import Ticket
from bot.settings.values import Council
from bot.storage import Database

Rows = list[tuple[Any, ...]]


def deflection_outcome() -> ColumnElement[str]:
    """``none``, ``confirmed`` or ``potential`` for an ``answer`` row: ``none`` when the
    person said No or a ticket on its topic followed in time (``undone_by``, marked by
    the desk as the ticket is raised or reopened), ``confirmed`` when they said Yes."""
    return case(
        (or_(Activity.rating == "no", Activity.undone_by.is_not(None)), "none"),
        (Activity.rating == "yes", "confirmed"),
        else_="potential",
    )


def _in(column: Any, since: datetime, before: datetime) -> ColumnElement[bool]:
    return and_(column >= since, column < before)


async def conversations(session: AsyncSession, since: datetime, before: datetime) -> Rows:
    """(council, distinct conversations with a turn in the period)."""
    inner = (
        select(Activity.council.label("council"), Activity.conversation_id)
        .where(
            Activity.kind.in_(("answer", "none_of_these", "unanswered", "ticket", "turn")),
            _in(Activity.at, since, before),
        )
        .distinct()
        .subquery()
    )
    query = select(inner.c.council, func.count()).group_by(inner.c.council)
    return [tuple(r) for r in (await session.execute(query)).all()]


async def answers(session: AsyncSession, since: datetime, before: datetime) -> Rows:
    """(council, article, outcome, answers): each answer shown in the period, judged."""
    inner = (
        select(
            Activity.council.label("council"),
            Activity.article_id.label("article"),
            deflection_outcome().label("outcome"),
        )
        .where(Activity.kind == "answer", _in(Activity.at, since, before))
        .subquery()
    )
    query = select(inner.c.council, inner.c.article, inner.c.outcome, func.count()).group_by(
        inner.c.council, inner.c.article, inner.c.outcome
    )
    return [tuple(r) for r in (await session.execute(query)).all()]


async def unanswered(session: AsyncSession, since: datetime, before: datetime) -> Rows:
    """(council, kind, topic, count) of declined questions and rejected choices."""
    query = (
        select(Activity.council, Activity.kind, Activity.category, func.count())
        .where(Activity.kind.in_(("none_of_these", "unanswered")), _in(Activity.at, since, before))
        .group_by(Activity.council, Activity.kind, Activity.category)
    )
    return [tuple(r) for r in (await session.execute(query)).all()]


async def agent_minutes(session: AsyncSession, since: datetime, before: datetime) -> Rows:
    """(council, minutes) agents logged on that council's tickets in the period."""
    query = (
        select(Activity.council, func.sum(Activity.minutes))
        .where(Activity.kind == "time_spent", _in(Activity.at, since, before))
        .group_by(Activity.council)
    )
    return [tuple(r) for r in (await session.execute(query)).all()]


def _clock(done: Any, due: Any, now: datetime) -> ColumnElement[str]:
    """The state of one SLA clock as the desk sees it (:meth:`SlaPolicy.clock`); a clock
    standing while the ticket waits for its requester is still running."""
    return case(
        (and_(done.is_not(None), done <= due), "met"),
        (done.is_not(None), "breached"),
        (Ticket.sla_paused_at.is_not(None), "running"),
        (due <= now, "breached"),
        else_="running",
    )


async def tickets(session: AsyncSession, since: datetime, before: datetime, now: datetime) -> Rows:
    """(council, category, priority, response clock, resolution clock, CSAT score, count)
    of the tickets raised in the period: one pass over ``tickets``."""
    inner = (
        select(
            Ticket.council.label("council"),
            Ticket.category.label("category"),
            Ticket.priority.label("priority"),
            _clock(Ticket.first_response_at, Ticket.response_due, now).label("response"),
            _clock(Ticket.resolved_at, Ticket.resolution_due, now).label("resolution"),
            Ticket.csat_score.label("csat"),
        )
        .where(_in(Ticket.created_at, since, before))
        .subquery()
    )
    c = inner.c
    groups = (c.council, c.category, c.priority, c.response, c.resolution, c.csat)
    query = select(*groups, func.count()).group_by(*groups)
    return [tuple(r) for r in (await session.execute(query)).all()]


def _council_of(subject: Any, councils: Sequence[Council]) -> ColumnElement[str]:
    """The council whose staff domain ends the address (the same rule as
    :meth:`Council.owns`); ``""`` for anyone else."""
    lowered = func.lower(subject)
    whens = [
        (
            or_(*(or_(lowered.like(f"%@{d}"), lowered.like(f"%.{d}")) for d in c.domains)),
            c.key,
        )
        for c in councils
        if c.domains
    ]
    return case(*whens, else_="") if whens else case((subject.is_(None), ""), else_="")


async def resets(
    session: AsyncSession, since: datetime, before: datetime, councils: Sequence[Council]
) -> Rows:
    """(council, operation, outcome, count): resets done, and how the one-time codes
    asked for them ended (wrong too often, expired, never used)."""
    done_inner = (
        select(
            _council_of(AccessReset.subject, councils).label("council"),
            AccessReset.operation.label("operation"),
        )
        .where(_in(AccessReset.done_at, since, before))
        .subquery()
    )
    done = select(done_inner.c.council, done_inner.c.operation, func.count()).group_by(
        done_inner.c.council, done_inner.c.operation
    )
    outcome = case(
        (OneTimeCode.ended == "too_many_tries", "code_wrong_too_often"),
        (OneTimeCode.ended == "expired", "code_expired"),
        (OneTimeCode.ended == "used", "code_used"),
        else_="code_not_used",
    )
    codes_inner = (
        select(
            _council_of(OneTimeCode.subject, councils).label("council"),
            OneTimeCode.purpose.label("operation"),
            outcome.label("outcome"),
        )
        .where(OneTimeCode.purpose != "sign_in", _in(OneTimeCode.created_at, since, before))
        .subquery()
    )
    c = codes_inner.c
    codes = select(c.council, c.operation, c.outcome, func.count()).group_by(
        c.council, c.operation, c.outcome
    )
    rows: Rows = [(r[0], r[1], "done", r[2]) for r in (await session.execute(done)).all()]
    rows += [tuple(r) for r in (await session.execute(codes)).all()]
    return rows


@dataclass(frozen=True, slots=True)
class Fetched:
    """Every query's rows for one period."""

    conversations: Rows
    answers: Rows
    unanswered: Rows
    agent_minutes: Rows
    tickets: Rows
    resets: Rows


async def fetch(
    db: Database, since: datetime, before: datetime, now: datetime, councils: Sequence[Council]
) -> Fetched:
    """Run the report's queries side by side, each in a session of its own: they are
    independent reads, so the report takes as long as the slowest, not their sum."""

    async def run(query: Callable[[AsyncSession], Awaitable[Rows]]) -> Rows:
        async with db.session() as session:
            return await query(session)

    found = await asyncio.gather(
        run(lambda s: conversations(s, since, before)),
        run(lambda s: answers(s, since, before)),
        run(lambda s: unanswered(s, since, before)),
        run(lambda s: agent_minutes(s, since, before)),
        run(lambda s: tickets(s, since, before, now)),
        run(lambda s: resets(s, since, before, councils)),
    )
    return Fetched(*found)
