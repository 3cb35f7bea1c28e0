"""How a change to a ticket is recorded: its event, the audit entry, and the desk events.

Every write of these goes through :class:`Recorder`, which the desk's parts share.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.actor import Actor
from bot.desk.events import TICKET_CHANGED, Events
from bot.desk.tickets import Ticket, TicketEvent
from bot.redaction import redact_values
from bot.storage import audit


class Recorder:
    """Writes a ticket's events, agents' audit entries and the desk events that follow."""

    #: who listens to the desk's events (set by the desk)
    listeners: Events

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
        self._emit(session, ticket, TICKET_CHANGED, now)

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

    def _emit(
        self, session: AsyncSession, ticket: Ticket, kind: str, now: datetime, **details: Any
    ) -> None:
        """Announce a change to whoever subscribed (rows in the outbox, this transaction).

        The payload is redacted like typed text: an outbox row is kept, and sent on.
        """
        self.listeners.emit(
            session, ticket_id=ticket.id, ref=ticket.ref, kind=kind, now=now,
            **redact_values(details),
        )  # fmt: skip
