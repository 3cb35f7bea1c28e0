"""Teams: each person's conversation reference, for replies that come later.

Revision ID: 0016
Revises: 0014

``teams_conversations`` is the Teams channel's own table (see
``bot.storage.teams_conversations``): one row per Teams user, with the staff record the
member lookup mapped them to and where to write to them (service URL, personal chat).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False, unique=True),
        sa.Column(
            "staff_id",
            sa.Integer,
            sa.ForeignKey("staff.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("aad_object_id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("service_url", sa.String(300), nullable=False),
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("teams_conversations")
