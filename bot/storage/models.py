"""Typed SQLAlchemy models. Schema changes go through Alembic migrations in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Staff(Base):
    """Someone who talks to the bot: staff of one of the councils."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    council: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    is_agent: Mapped[bool] = mapped_column(default=False)
    #: why ``is_agent`` is set: "manual" (``itbot desk add-agent``), "settings"
    #: (``ITBOT_DESK_AGENTS``) or "slack_group" (the agents' Slack user group). Agents
    #: from the list or the group stop being agents when they leave it; manual ones don't.
    agent_via: Mapped[str | None] = mapped_column(String(16), default=None)
    is_privileged: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Conversation(Base):
    """Persisted conversation state for one person in one place (channel + thread)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("staff_id", "channel", "thread"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    thread: Mapped[str] = mapped_column(String(128), default="")
    flow: Mapped[str | None] = mapped_column(String(64), default=None)
    step: Mapped[str | None] = mapped_column(String(64), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[Staff] = relationship(lazy="joined")


class Turn(Base):
    """One exchange: what the person said, what the bot understood and answered."""

    __tablename__ = "turns"
    __table_args__ = (Index("ix_turns_conversation_created", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_text: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str | None] = mapped_column(String(200), default=None)
    intent: Mapped[str | None] = mapped_column(String(64), default=None)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    flow: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str] = mapped_column(String(64), default="")
    reply_text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditEntry(Base):
    """Append-only record of access resets and agent actions (triggers refuse edits)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created", "created_at"),
        Index("ix_audit_log_actor", "actor", "created_at"),
        Index("ix_audit_log_action", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(320), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SlackInboxEntry(Base):
    """A Slack request recorded before it was acknowledged, processed once after the ack.

    ``dedupe_key`` (the Events API ``event_id``, or the ``trigger_id`` of a command or
    interaction) is unique, so a retried delivery is recognised by every replica. A worker
    claims ``pending`` rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and holds them for
    ``lease_until``; a row whose lease ran out (its replica stopped) is claimed again.
    ``outbox`` keeps the rendered replies of a processed turn and how many were sent, so a
    restart resends what is missing instead of running the turn twice.
    """

    __tablename__ = "slack_inbox"
    __table_args__ = (
        Index("ix_slack_inbox_ready", "status", "available_at"),
        Index("ix_slack_inbox_ordering", "ordering_key", "id"),
        Index("ix_slack_inbox_finished", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: rows with one key (a person in one conversation) are processed in order
    ordering_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    outbox: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
