"""Who changes a ticket, and what they may do to it.

A member of staff acts as the ticket's requester or as a service desk agent; the
desk itself (SLA alerts, resumed clocks) acts as :data:`SYSTEM`; an agent working
in an external desk acts through :meth:`Actor.remote`.

>>> kim = Actor.remote("jira", "Kim")
>>> kim.email, kim.kind
('jira:Kim', 'remote')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.desk.errors import NotAllowed
from bot.desk.tickets import Ticket
from bot.storage.models import Staff

#: what the actor is: a member of staff, the desk itself, or someone in an external desk
Kind = Literal["staff", "system", "remote"]
#: the part the actor plays on one ticket
Role = Literal["requester", "agent", "system", "remote"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a requester, an agent, the system, or an external desk's agent."""

    email: str
    name: str
    staff_id: int | None = None
    is_agent: bool = False
    kind: Kind = "staff"

    @classmethod
    def of(cls, staff: Staff) -> Actor:
        return cls(staff.email, staff.display_name, staff.id, staff.is_agent)

    @classmethod
    def remote(cls, system: str, author: str | None) -> Actor:
        """An agent in the external desk ``system`` (``author`` as that desk names them)."""
        return cls(f"{system}:{author or 'agent'}", author or "Agent", kind="remote")

    def requested(self, ticket: Ticket) -> bool:
        """Whether this is the person who raised ``ticket``."""
        return self.staff_id is not None and self.staff_id == ticket.requester_id

    def role_on(self, ticket: Ticket) -> Role | None:
        """The part played on ``ticket``; ``None`` for staff with no part in it."""
        if self.kind != "staff":
            return self.kind
        if self.requested(ticket):
            return "requester"
        return "agent" if self.is_agent else None


SYSTEM = Actor("system", "Joint ICT Service Desk", kind="system")


def require_agent(actor: Actor) -> None:
    if not actor.is_agent:
        raise NotAllowed("Only service desk agents can do that.")


def require_commenter(actor: Actor, ticket: Ticket) -> Role:
    """The role the actor comments in; refused for staff who neither raised nor work it."""
    role = actor.role_on(ticket)
    if role is None:
        raise NotAllowed("Only the requester or a service desk agent can comment.")
    return role


def require_requester(actor: Actor, ticket: Ticket) -> None:
    if not actor.requested(ticket):
        raise NotAllowed("Only the person who raised the ticket can rate it.")


def require_status_change(actor: Actor, ticket: Ticket, status: str) -> bool:
    """Agents move tickets between any statuses; requesters may close or reopen their own.

    Returns whether this is the requester reopening (the caller checks the window).
    """
    if actor.is_agent:
        return False
    if not actor.requested(ticket):
        raise NotAllowed("Only the requester or a service desk agent can change this ticket.")
    if status == "open" and ticket.status in ("resolved", "closed"):
        return True
    if status != "closed":
        raise NotAllowed("You can close or reopen your ticket; the desk does the rest.")
    return False
