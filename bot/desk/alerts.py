"""SLA alerts: when a ticket's next alert falls due, and the sweep that records them.

:mod:`bot.desk.watch` runs :meth:`SlaAlerts.sla_sweep` every 30 seconds or so; the
schedule itself is :func:`bot.desk.sla.ticket_alerts`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk import sla
from bot.desk.actor import SYSTEM
from bot.desk.events import SLA_ALERT, TICKET_CHANGED
from bot.desk.recording import Recorder
from bot.desk.tickets import Ticket, TicketEvent


class SlaAlerts(Recorder):
    """The desk's SLA alerts (a part of :class:`bot.desk.service.Desk`)."""

    def next_sla_alert(self, ticket: Ticket) -> datetime | None:
        """When the ticket's next SLA alert falls due; ``None`` once there are no more."""
        return sla.next_alert(ticket)

    async def sla_sweep(
        self, session: AsyncSession, *, now: datetime, limit: int = 200
    ) -> tuple[list[tuple[str, list[str]]], int]:
        """Record the SLA alerts due by ``now``, once each, with an ``sla_alert`` outbox row.

        Reads only tickets whose ``sla_next_alert_at`` has passed (an index range); rows
        another replica is sweeping are skipped (``SKIP LOCKED`` on PostgreSQL). Returns
        ``(ref, alerts)`` for each ticket alerted, and how many tickets were examined
        (``limit`` of them: more may be due).
        """
        query = (
            select(Ticket)
            .where(Ticket.sla_next_alert_at <= now)
            .order_by(Ticket.sla_next_alert_at)
            .limit(limit)
            # NO KEY UPDATE: a ticket someone is commenting on (the comment's foreign key
            # holds KEY SHARE on it) is not skipped
            .with_for_update(skip_locked=True, key_share=True, of=Ticket)
        )
        alerted: list[tuple[str, list[str]]] = []
        tickets = (await session.execute(query)).scalars().all()
        for ticket in tickets:
            sent = list(ticket.sla_alerts or ())
            due: list[str] = sla.due_alerts(ticket, now)
            if due:
                ticket.sla_alerts = [*sent, *due]
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        created_at=now,
                        actor=SYSTEM.email,
                        kind="sla_alert",
                        details={"alerts": due},
                    )
                )
                self._emit(session, ticket, SLA_ALERT, now, alerts=due)
                self._emit(session, ticket, TICKET_CHANGED, now)
                alerted.append((ticket.ref or "", due))
            ticket.sla_next_alert_at = self.next_sla_alert(ticket)
        return alerted, len(tickets)
