"""The Slack inbox: requests recorded before they are acknowledged, processed exactly once.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_inbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedupe_key", sa.String(255), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ordering_key", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("lease_until", TS),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("outbox", sa.JSON),
        sa.Column("error", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_slack_inbox_ready", "slack_inbox", ["status", "available_at"])
    op.create_index("ix_slack_inbox_ordering", "slack_inbox", ["ordering_key", "id"])
    op.create_index("ix_slack_inbox_finished", "slack_inbox", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_inbox_finished", "slack_inbox")
    op.drop_index("ix_slack_inbox_ordering", "slack_inbox")
    op.drop_index("ix_slack_inbox_ready", "slack_inbox")
    op.drop_table("slack_inbox")
