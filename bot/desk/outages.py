"""Every raised ticket checked for an outage, after its commit, by the outbox worker.

The desk subscribes its own ``outages`` destination to ``ticket_created`` (:func:`subscribe`),
so raising a ticket costs no more than one more outbox row in its batch; the worker then
runs :meth:`OutageWatch.check` in its own transaction, with the outbox's retries: the
ticket is linked to a notice that stands about it (:meth:`bot.desk.notices.Notices.link_arrival`)
and counted towards a spike (:meth:`bot.desk.spikes.Spikes.observe`), which announces
``outage_spike`` once per spike.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.events import TICKET_CREATED, Events
from bot.desk.outbox import Handler, Skip
from bot.desk.service import Desk
from bot.desk.tickets import OutboxMessage, Ticket

#: the outbox destination of the desk's own outage check
DESTINATION = "outages"


def subscribe(events: Events) -> None:
    """The outage check wants every new ticket (whatever channels are configured)."""
    events.subscribe(DESTINATION, TICKET_CREATED)


class OutageWatch:
    """The ``outages`` destination's handler."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def handlers(self) -> dict[str, Handler]:
        return {TICKET_CREATED: self.check}

    async def check(self, session: AsyncSession, row: OutboxMessage) -> None:
        ticket = await session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None:
            raise Skip("the ticket no longer exists")
        await self.desk.notices.link_arrival(session, ticket, now=ticket.created_at)
        await self.desk.spikes.observe(session, ticket, now=ticket.created_at)
