"""How a change to a ticket is recorded: its event, the audit entry, and outbox rows.

Every write of these goes through :class:`Recorder`, which the desk's parts share.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.actor import Actor
from bot.desk.models import OutboxMessage, Ticket, TicketEvent
from bot.storage import audit


class Recorder:
    """Writes a ticket's events, agents' audit entries and the outbox rows that follow."""

    async def _agent_change(
        self,
        session: AsyncSession,
        ticket: Ticket,
        agent: Actor,
        kind: str,
        now: datetime,
        **details: Any,
    ) -> None:
        self._event(session, ticket, agent, kind, now, **details)
        await audit.record(
            session, actor=agent.email, action=f"ticket_{kind}", subject=ticket.ref or "", **details
        )
        self._outbox(session, ticket, "triage_update", now)

    def _event(
        self,
        session: AsyncSession,
        ticket: Ticket,
        actor: Actor,
        kind: str,
        now: datetime,
        **details: Any,
    ) -> None:
        ticket.updated_at = now
        session.add(
            TicketEvent(
                ticket_id=ticket.id, created_at=now, actor=actor.email, kind=kind, details=details
            )
        )

    @staticmethod
    def _outbox(
        session: AsyncSession, ticket: Ticket, kind: str, now: datetime, **payload: Any
    ) -> None:
        session.add(
            OutboxMessage(
                ticket_id=ticket.id,
                kind=kind,
                payload={"ref": ticket.ref, **payload},
                created_at=now,
                available_at=now,
                attempts=0,
            )
        )
