"""The approvals queue, Slack's approval messages, and indexes to read the audit log.

Revision ID: 0010
Revises: 0009

- ``approvals``: changes waiting for a service desk agent's approval (first user: an MFA
  reset), with who asked, from where, until when, and who decided what.
- ``slack_approval_messages``: where each request's message in the triage channel is, so
  it is updated when the request is decided or expires (the Slack channel's own table).
- ``audit_log``: indexes on time, actor and action for the dashboard's audit page and
  ``itbot audit list`` (newest first, filtered).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("requester_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("council", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("thread", sa.String(128), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decided_by_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column(
            "ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
        ),
    )
    op.create_index("ix_approvals_status_expires", "approvals", ["status", "expires_at"])
    op.create_index("ix_approvals_decided", "approvals", ["decided_at"])
    op.create_table(
        "slack_approval_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "approval_id",
            sa.Integer,
            sa.ForeignKey("approvals.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("channel", "ts", name="uq_slack_approval_messages_ts"),
    )
    op.create_index("ix_audit_log_created", "audit_log", ["created_at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "created_at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_index("ix_audit_log_created", table_name="audit_log")
    op.drop_table("slack_approval_messages")
    op.drop_index("ix_approvals_decided", table_name="approvals")
    op.drop_index("ix_approvals_status_expires", table_name="approvals")
    op.drop_table("approvals")
