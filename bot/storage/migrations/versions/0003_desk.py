"""The joint service desk: tickets, comments, events, outbox.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.String(32), unique=True),
        sa.Column("requester_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("council", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee_id", sa.Integer, sa.ForeignKey("staff.id")),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("impact", sa.String(200), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("reply_channel", sa.String(32), nullable=False),
        sa.Column("reply_thread", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("first_response_at", TS),
        sa.Column("resolved_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("response_due", TS, nullable=False),
        sa.Column("resolution_due", TS, nullable=False),
        sa.Column("response_risk_at", TS, nullable=False),
        sa.Column("resolution_risk_at", TS, nullable=False),
        sa.Column("sla_alerts", sa.JSON, nullable=False),
        sa.Column("triage", sa.JSON, nullable=False),
        sa.Column("external_system", sa.String(32)),
        sa.Column("external_id", sa.String(128)),
        sa.Column("external_url", sa.String(500)),
        sa.Column("csat_score", sa.Integer),
        sa.Column("csat_comment", sa.Text),
    )
    op.create_index("ix_tickets_queue", "tickets", ["status", "council", "priority", "created_at"])
    op.create_index("ix_tickets_requester", "tickets", ["requester_id", "status"])
    op.create_index("ix_tickets_assignee", "tickets", ["assignee_id", "status"])
    op.create_index("ix_tickets_due", "tickets", ["status", "resolution_due"])
    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("staff.id")),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("via", sa.String(32), nullable=False),
        sa.Column("external_key", sa.String(200), unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_ticket_comments_ticket", "ticket_comments", ["ticket_id", "created_at"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_ticket_events_ticket", "ticket_events", ["ticket_id", "created_at"])
    op.create_table(
        "desk_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("locked_until", TS),
        sa.Column("sent_at", TS),
        sa.Column("failed_at", TS),
    )
    op.create_index("ix_desk_outbox_ready", "desk_outbox", ["sent_at", "available_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("thread", sa.String(128), nullable=False),
        sa.Column("reply", sa.JSON, nullable=False),
        sa.Column("source_key", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
    )
    op.create_index(
        "ix_notifications_pending", "notifications", ["staff_id", "channel", "delivered_at"]
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("desk_outbox")
    op.drop_table("ticket_events")
    op.drop_table("ticket_comments")
    op.drop_table("tickets")
