"""One page of the queue, fast at 100,000 tickets.

Same filters and order as :meth:`bot.desk.service.Desk.queue` (a test checks they agree),
tuned for a page that is loaded all day:

* only the columns a row shows are read (not transcripts or descriptions), with the
  requester and assignee names joined in;
* the total is counted up to :data:`COUNT_CAP` and then shown as "1,000+": an exact
  ``count(*)`` over 100,000 rows costs more than the rest of the page together; when the
  page is the last one (a narrow search) it is not counted at all;
* the open statuses are inlined as literals so PostgreSQL can prove that the partial
  index ``ix_tickets_open_urgency`` (migration 0004) applies even to a cached, generic
  plan of the prepared statement;
* ties are broken by id so paging never shows a ticket twice.

>>> page = await queue_page(session, QueueFilter(council="dacorum"), now=now)  # doctest: +SKIP
>>> page.total_label
'1,000+'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.desk.models import Ticket
from bot.desk.service import QueueFilter
from bot.desk.sla import ClockState
from bot.storage.models import Staff
from bot.web.desk.clocks import Clock, attention, clocks

COUNT_CAP = 1000
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    ref: str
    summary: str
    council: str
    category: str
    priority: str
    status: str
    created_at: datetime
    updated_at: datetime
    response_due: datetime
    response_risk_at: datetime
    first_response_at: datetime | None
    resolution_due: datetime
    resolution_risk_at: datetime
    resolved_at: datetime | None
    requester_name: str
    requester_email: str
    assignee_name: str | None
    assignee_email: str | None
    attention: ClockState = "ok"

    def clocks(self, now: datetime) -> tuple[Clock, Clock]:
        return clocks(self, now)


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    #: matching tickets, counted up to ``COUNT_CAP + 1``
    total: int
    offset: int
    limit: int
    #: whether another page follows (known even beyond the counted ``COUNT_CAP``)
    has_next: bool

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def total_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.capped else f"{self.total:,}"

    @property
    def first(self) -> int:
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)


def conditions(filters: QueueFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the queue for ``filters`` (as in ``Desk.queue``)."""
    where: list[ColumnElement[bool]] = [
        Ticket.status.in_([literal(s, literal_execute=True) for s in filters.statuses])
    ]
    if filters.council:
        where.append(Ticket.council == filters.council)
    if filters.priority:
        where.append(Ticket.priority == filters.priority)
    if filters.unassigned:
        where.append(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        where.append(Ticket.assignee_id == filters.assignee_id)
    if filters.text and filters.text.strip():
        text = filters.text.strip()
        where.append(
            or_(
                Ticket.summary.icontains(text, autoescape=True),
                Ticket.ref.icontains(text, autoescape=True),
            )
        )
    if filters.sla == "breached":
        where.append(
            or_(
                Ticket.resolution_due <= now,
                Ticket.first_response_at.is_(None) & (Ticket.response_due <= now),
            )
        )
    elif filters.sla == "at_risk":
        where.append(Ticket.resolution_due > now)
        where.append(
            or_(
                Ticket.resolution_risk_at <= now,
                Ticket.first_response_at.is_(None)
                & (Ticket.response_risk_at <= now)
                & (Ticket.response_due > now),
            )
        )
    return where


async def queue_page(
    session: AsyncSession,
    filters: QueueFilter,
    *,
    now: datetime,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> QueuePage:
    """One page of the queue, most urgent first, and the (capped) number matching."""
    where = conditions(filters, now)
    requester = aliased(Staff)
    assignee = aliased(Staff)
    query = (
        select(
            Ticket.id,
            Ticket.ref,
            Ticket.summary,
            Ticket.council,
            Ticket.category,
            Ticket.priority,
            Ticket.status,
            Ticket.created_at,
            Ticket.updated_at,
            Ticket.response_due,
            Ticket.response_risk_at,
            Ticket.first_response_at,
            Ticket.resolution_due,
            Ticket.resolution_risk_at,
            Ticket.resolved_at,
            requester.display_name.label("requester_name"),
            requester.email.label("requester_email"),
            assignee.display_name.label("assignee_name"),
            assignee.email.label("assignee_email"),
        )
        .join(requester, Ticket.requester_id == requester.id)
        .outerjoin(assignee, Ticket.assignee_id == assignee.id)
        .where(*where)
        .order_by(Ticket.priority, Ticket.resolution_due, Ticket.id)
        .limit(limit + 1)
        .offset(offset)
    )
    result = await session.execute(query)
    fetched = [QueueRow(**values) for values in result.mappings()]
    rows = [replace(row, attention=attention(row, now)) for row in fetched[:limit]]
    has_next = len(fetched) > limit
    if not has_next and (rows or offset == 0):
        total = offset + len(rows)  # this page is the last: no need to count
    else:
        capped = select(Ticket.id).where(*where).limit(COUNT_CAP + 1).subquery()
        total = (await session.execute(select(func.count()).select_from(capped))).scalar_one()
    return QueuePage(rows=rows, total=int(total), offset=offset, limit=limit, has_next=has_next)
