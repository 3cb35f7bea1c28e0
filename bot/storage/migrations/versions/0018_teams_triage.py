"""Teams: the agents' triage channel, one thread per ticket.

Revision ID: 0018
Revises: 0017

``teams_ticket_threads`` is the Teams channel's own table (see
``bot.storage.teams_threads``): where each ticket's card in the triage channel is (the
thread's conversation id, the card's activity id, the service URL it went through), so
the card can be updated and replies in its thread become comments on the ticket.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "teams_ticket_threads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("conversation_id", sa.String(400), nullable=False, unique=True),
        sa.Column("activity_id", sa.String(200), nullable=False),
        sa.Column("service_url", sa.String(300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("teams_ticket_threads")
