"""One page of the queue, fast at 100,000 tickets.

The tickets are :meth:`bot.desk.service.Desk.queue`'s (the one place the queue's filters
and order live); this module turns them into the rows the page shows:

* the total is counted up to :data:`COUNT_CAP` and then shown as "1,000+": an exact
  ``count(*)`` over 100,000 rows costs more than the rest of the page together; when the
  page is the last one (a narrow search) it is not counted at all;
* one ticket more than the page holds is read, so "next page" is known even beyond the
  counted ``COUNT_CAP``.

>>> page = await queue_page(session, QueueFilter(council="dacorum"), now=now)  # doctest: +SKIP
>>> page.total_label
'1,000+'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.queue import QueueFilter
from bot.desk.service import Desk
from bot.desk.sla import ClockState
from bot.desk.tickets import Ticket
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
    sla_paused_at: datetime | None
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


async def queue_page(
    session: AsyncSession,
    filters: QueueFilter,
    *,
    now: datetime,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    desk: Desk | None = None,
) -> QueuePage:
    """One page of the queue, most urgent first, and the (capped) number matching."""
    desk = desk or Desk()
    tickets, total = await desk.queue(
        session, filters, now=now, limit=limit + 1, offset=offset, count_cap=COUNT_CAP
    )
    rows = [_row(ticket, now) for ticket in tickets[:limit]]
    has_next = len(tickets) > limit
    return QueuePage(rows=rows, total=total, offset=offset, limit=limit, has_next=has_next)


def _row(ticket: Ticket, now: datetime) -> QueueRow:
    assignee = ticket.assignee
    row = QueueRow(
        id=ticket.id,
        ref=ticket.ref or "",
        summary=ticket.summary,
        council=ticket.council,
        category=ticket.category,
        priority=ticket.priority,
        status=ticket.status,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        response_due=ticket.response_due,
        response_risk_at=ticket.response_risk_at,
        first_response_at=ticket.first_response_at,
        resolution_due=ticket.resolution_due,
        resolution_risk_at=ticket.resolution_risk_at,
        resolved_at=ticket.resolved_at,
        sla_paused_at=ticket.sla_paused_at,
        requester_name=ticket.requester.display_name,
        requester_email=ticket.requester.email,
        assignee_name=assignee.display_name if assignee else None,
        assignee_email=assignee.email if assignee else None,
    )
    return replace(row, attention=attention(row, now))
