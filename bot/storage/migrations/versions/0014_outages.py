"""Outages: spikes of similar reports, service notices, and who is linked to a notice.

Revision ID: 0014
Revises: 0013

``outage_spikes`` records each spike of similar reports once (its tickets in
``outage_spike_reports``, one spike per ticket), ``service_notices`` the notices agents
publish, ``notice_members`` the staff who added themselves or whose ticket is linked to
the notice's parent. ``ix_tickets_recent`` lets the spike check read only the last
minutes of one category.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("products", sa.JSON, nullable=False),
        sa.Column("councils", sa.JSON, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column(
            "parent_ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index("ix_service_notices_standing", "service_notices", ["ended_at", "expires_at"])
    op.create_table(
        "outage_spikes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("products", sa.JSON, nullable=False),
        sa.Column("councils", sa.JSON, nullable=False),
        sa.Column("first_at", TS, nullable=False),
        sa.Column("last_at", TS, nullable=False),
        sa.Column("detected_at", TS, nullable=False),
        sa.Column(
            "notice_id",
            sa.Integer,
            sa.ForeignKey("service_notices.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("dismissed_at", TS, nullable=True),
    )
    op.create_index("ix_outage_spikes_category", "outage_spikes", ["category", "last_at"])
    op.create_table(
        "outage_spike_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "spike_id",
            sa.Integer,
            sa.ForeignKey("outage_spikes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
    )
    op.create_table(
        "notice_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "notice_id",
            sa.Integer,
            sa.ForeignKey("service_notices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("thread", sa.String(128), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("told_at", TS, nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.UniqueConstraint("notice_id", "staff_id", name="uq_notice_members"),
    )
    op.create_index("ix_tickets_recent", "tickets", ["category", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_recent", table_name="tickets")
    op.drop_table("notice_members")
    op.drop_table("outage_spike_reports")
    op.drop_table("outage_spikes")
    op.drop_table("service_notices")
