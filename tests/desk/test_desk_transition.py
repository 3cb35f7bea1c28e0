"""A status change writes the same timestamps, events, audit entries and outbox rows
whoever makes it: the requester, an agent, or an agent in the external desk."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.calendar import LONDON
from bot.desk.service import Actor, Desk
from bot.desk.tickets import OutboxMessage, Ticket, TicketEvent
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import AuditEntry, Staff
from tests.desk.listening import listening_desk

SAM = "sam.taylor@dacorum.gov.uk"
PAT = "pat.agent@aylesburyvaledc.gov.uk"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)  # a Wednesday


async def _people(s: AsyncSession) -> tuple[Staff, Staff]:
    sam = await staff_repo.get_or_create(s, email=SAM, council="dacorum")
    pat = await staff_repo.get_or_create(s, email=PAT, council="aylesbury-vale")
    pat.is_agent = True
    return sam, pat


class Rows:
    """The events, outbox rows and audit entries written since the last look."""

    def __init__(self, session: AsyncSession, ticket: Ticket) -> None:
        self.session, self.ticket = session, ticket
        self.seen = {"events": 0, "outbox": 0, "audit": 0}

    async def new(self) -> dict[str, list[tuple[Any, ...]]]:
        s, ticket = self.session, self.ticket
        events = await s.execute(
            select(TicketEvent.kind, TicketEvent.actor, TicketEvent.details)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.id)
        )
        outbox = await s.execute(
            select(OutboxMessage.kind, OutboxMessage.destination, OutboxMessage.payload)
            .where(OutboxMessage.ticket_id == ticket.id)
            .order_by(OutboxMessage.id)
        )
        audit = await s.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.details)
            .where(AuditEntry.subject == ticket.ref)
            .order_by(AuditEntry.id)
        )
        found = {
            "events": [tuple(r) for r in events],
            "outbox": [tuple(r) for r in outbox],
            "audit": [tuple(r) for r in audit],
        }
        fresh = {name: rows[self.seen[name] :] for name, rows in found.items()}
        self.seen = {name: len(rows) for name, rows in found.items()}
        return fresh


def _status(ref: str | None, status: str, before: str, *, remote: bool = False) -> dict[str, Any]:
    return {"ref": ref, "status": status, "before": before, "remote": remote}


async def _raise(s: AsyncSession, desk: Desk, sam: Staff) -> tuple[Ticket, Rows]:
    ticket = await desk.raise_ticket(
        s, requester=sam, summary="Outlook keeps asking for my password", category="email",
        priority="P3", now=NOW,
    )  # fmt: skip
    rows = Rows(s, ticket)
    await rows.new()
    return ticket, rows


async def test_the_requester_closes_their_ticket(db: Database) -> None:
    desk = listening_desk(external="jira")
    async with db.session() as s, s.begin():
        sam, _ = await _people(s)
        ticket, rows = await _raise(s, desk, sam)
        ref = ticket.ref
        at = NOW + timedelta(hours=1)
        await desk.set_status(s, ticket, Actor.of(sam), "closed", now=at)
        closed = {"ref": ref, "status": "closed", "before": "new", "remote": False}

        assert (ticket.status, ticket.closed_at, ticket.resolved_at) == ("closed", at, at)
        assert ticket.updated_at == at and ticket.sla_next_alert_at is None
        assert await rows.new() == {
            "events": [("status", SAM, {"before": "new", "after": "closed"})],
            "outbox": [
                ("ticket_changed", "slack", {"ref": ref}),
                ("status_changed", "requester", closed),
                ("status_changed", "external", closed),
            ],
            "audit": [],  # a requester's change is not an agent action
        }
        await desk.set_status(s, ticket, Actor.of(sam), "closed", now=at)  # already closed: nothing
        assert await rows.new() == {"events": [], "outbox": [], "audit": []}


async def test_an_agent_resolves_with_a_note_then_reopens(db: Database) -> None:
    desk = listening_desk()
    async with db.session() as s, s.begin():
        sam, pat = await _people(s)
        ticket, rows = await _raise(s, desk, sam)
        ref = ticket.ref

        # waiting for Sam from Wednesday 11:00 to Thursday 10:00: 7.5 working hours
        await desk.set_status(s, ticket, Actor.of(pat), "pending", now=NOW + timedelta(hours=1))
        assert ticket.sla_paused_at == NOW + timedelta(hours=1)
        assert ticket.sla_next_alert_at is None
        pending = await rows.new()
        assert pending["events"] == [("status", PAT, {"before": "new", "after": "pending"})]
        assert pending["outbox"] == [
            ("ticket_changed", "slack", {"ref": ref}),
            ("status_changed", "requester", _status(ref, "pending", "new")),
        ]
        assert pending["audit"] == [(PAT, "ticket_status", {"before": "new", "after": "pending"})]

        due = ticket.resolution_due
        resolved_at = NOW + timedelta(days=1)
        await desk.set_status(
            s, ticket, Actor.of(pat), "resolved", now=resolved_at, note="Re-added the mailbox"
        )
        assert (ticket.status, ticket.resolved_at, ticket.closed_at) == (
            "resolved",
            resolved_at,
            None,
        )
        assert ticket.sla_paused_at is None
        assert ticket.sla_paused_seconds == int(7.5 * 3600)
        assert ticket.resolution_due == desk.policy.calendar.add(due, timedelta(hours=7.5))
        assert ticket.first_response_at == resolved_at  # the note answered Sam
        resolved = await rows.new()
        comment_id = resolved["events"][1][2]["comment"]
        assert resolved["events"] == [
            ("sla_resumed", "system", {"paused_minutes": 450}),
            ("commented", PAT, {"public": True, "comment": comment_id}),
            ("status", PAT, {"before": "pending", "after": "resolved"}),
        ]
        note = {"ref": ref, "comment": comment_id, "role": "agent", "public": True, "via": "desk"}
        assert resolved["outbox"] == [
            ("comment_added", "requester", note),
            ("ticket_changed", "slack", {"ref": ref}),
            ("ticket_changed", "slack", {"ref": ref}),
            ("status_changed", "requester", _status(ref, "resolved", "pending")),
            ("csat_requested", "requester", {"ref": ref}),
        ]
        assert resolved["audit"] == [
            (PAT, "ticket_status", {"before": "pending", "after": "resolved"})
        ]

        reopened_at = resolved_at + timedelta(hours=2)
        await desk.set_status(s, ticket, Actor.of(pat), "open", now=reopened_at)
        assert (ticket.status, ticket.resolved_at, ticket.closed_at) == ("open", None, None)
        assert ticket.sla_next_alert_at == ticket.resolution_risk_at
        assert await rows.new() == {
            "events": [("status", PAT, {"before": "resolved", "after": "open"})],
            "outbox": [
                ("ticket_changed", "slack", {"ref": ref}),
                ("status_changed", "requester", _status(ref, "open", "resolved")),
            ],
            "audit": [(PAT, "ticket_status", {"before": "resolved", "after": "open"})],
        }


async def test_a_status_set_in_the_external_desk(db: Database) -> None:
    desk = listening_desk(external="jira")
    kim = Actor.remote("jira", "kim")
    async with db.session() as s, s.begin():
        sam, _ = await _people(s)
        ticket, rows = await _raise(s, desk, sam)
        ref = ticket.ref
        await desk.apply_remote_status(s, ticket, "pending", actor=kim, now=NOW)
        assert await rows.new() == {
            "events": [
                ("status", "jira:kim", {"before": "new", "after": "pending", "remote": True})
            ],
            "outbox": [
                ("status_changed", "requester", _status(ref, "pending", "new", remote=True)),
                ("ticket_changed", "slack", {"ref": ref}),
            ],
            "audit": [],
        }

        at = NOW + timedelta(hours=2)
        await desk.apply_remote_status(s, ticket, "closed", actor=kim, now=at)
        assert (ticket.status, ticket.closed_at, ticket.resolved_at) == ("closed", at, at)
        assert await rows.new() == {
            "events": [
                ("sla_resumed", "system", {"paused_minutes": 120}),
                ("status", "jira:kim", {"before": "pending", "after": "closed", "remote": True}),
            ],
            # the change came from the external desk: nothing goes back to it
            "outbox": [
                ("status_changed", "requester", _status(ref, "closed", "pending", remote=True)),
                ("ticket_changed", "slack", {"ref": ref}),
            ],
            "audit": [],
        }

        # the same status again, or one the desk doesn't know, changes nothing
        await desk.apply_remote_status(s, ticket, "closed", actor=kim, now=at)
        await desk.apply_remote_status(s, ticket, "on hold", actor=kim, now=at)
        assert await rows.new() == {"events": [], "outbox": [], "audit": []}

        await desk.apply_remote_status(s, ticket, "resolved", actor=kim, now=at)
        assert (ticket.resolved_at, ticket.closed_at) == (at, at)
        assert (await rows.new())["outbox"] == [
            ("status_changed", "requester", _status(ref, "resolved", "closed", remote=True)),
            ("ticket_changed", "slack", {"ref": ref}),
            ("csat_requested", "requester", {"ref": ref}),
        ]
