"""The desk's tables: tickets, their comments and events, and the outbox of desk events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models import Base, Staff, utcnow

STATUSES = ("new", "open", "pending", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "pending")
#: statuses whose SLA clocks run: "pending" (waiting for the requester) pauses them
RUNNING_STATUSES = ("new", "open")
CATEGORIES = ("email", "calendar", "documents", "sign-in", "device", "other")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "status", "council", "priority", "created_at"),
        Index("ix_tickets_requester", "requester_id", "status"),
        Index("ix_tickets_assignee", "assignee_id", "status"),
        Index("ix_tickets_due", "status", "resolution_due"),
        Index("ix_tickets_sla_next_alert", "sla_next_alert_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_requester_created", "requester_id", "created_at"),
        #: the last minutes of one category, for the spike check (bot.desk.spikes)
        Index("ix_tickets_recent", "category", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    requester_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    council: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="new")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(32), default="chat")
    #: the conversation that led here, copied when the ticket was raised
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: where the requester talks to us (channel + thread), for notifications and the relay
    reply_channel: Mapped[str] = mapped_column(String(32), default="web")
    reply_thread: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    response_due: Mapped[datetime] = mapped_column()
    resolution_due: Mapped[datetime] = mapped_column()
    #: when 75% of each clock's working time is used up (the "at risk" line)
    response_risk_at: Mapped[datetime] = mapped_column()
    resolution_risk_at: Mapped[datetime] = mapped_column()
    #: SLA alerts already posted ("response_at_risk", "resolution_breached", ...)
    sla_alerts: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: when the next of those alerts falls due (``None``: no more alerts for this ticket)
    sla_next_alert_at: Mapped[datetime | None] = mapped_column(default=None)
    #: while the ticket is pending (waiting for the requester): since when its clocks stand
    sla_paused_at: Mapped[datetime | None] = mapped_column(default=None)
    #: working time the clocks have stood in earlier pauses (seconds); due times include it
    sla_paused_seconds: Mapped[int] = mapped_column(default=0)
    external_system: Mapped[str | None] = mapped_column(String(32), default=None)
    external_id: Mapped[str | None] = mapped_column(String(128), default=None)
    external_url: Mapped[str | None] = mapped_column(String(500), default=None)
    csat_score: Mapped[int | None] = mapped_column(default=None)
    csat_comment: Mapped[str | None] = mapped_column(Text, default=None)

    requester: Mapped[Staff] = relationship(foreign_keys=[requester_id], lazy="joined")
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id], lazy="joined")


class TicketComment(Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (Index("ix_ticket_comments_ticket", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    author_name: Mapped[str] = mapped_column(String(200))
    #: requester, agent, system or remote (an agent in an external desk)
    author_role: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(default=True)
    via: Mapped[str] = mapped_column(String(32), default="chat")
    #: id of the same comment elsewhere (Slack ts, remote change id), for de-duplication
    external_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketEvent(Base):
    """Every change to a ticket: who, what, when."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxMessage(Base):
    """Work that must happen after a commit and must not be lost: written in the same
    transaction as the change, delivered by a worker with retries."""

    __tablename__ = "desk_outbox"
    __table_args__ = (Index("ix_desk_outbox_ready", "sent_at", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    #: the desk event (``bot.desk.events``): ticket_created, comment_added, status_changed, ...
    kind: Mapped[str] = mapped_column(String(32))
    #: who the row is for: a listener that subscribed to the event (requester, slack, external)
    destination: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
