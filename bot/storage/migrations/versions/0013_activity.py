"""The report's own text-free record of outcomes, and the indexes its queries need.

Revision ID: 0013
Revises: 0012

``activity`` holds one row per counted event (an answer and its rating, a rejected choice,
a declined question, a ticket raised or reopened, agent time logged, any other turn) with
no text anyone wrote, so the privacy purge of turns and transcripts leaves the report's
figures unchanged. ``staff_id`` is set to ``NULL`` when a person is erased; the
conversation id is a plain number (no foreign key) for the same reason. ``undone_by``
names the ticket, raised or reopened on an answer's topic within its window, that undid
its deflection (marked as the ticket arrives, so the report needs no per-answer look-up). The report
groups tickets by creation time and resets by when they happened, hence the new indexes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("council", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.Integer, nullable=True),
        sa.Column(
            "staff_id",
            sa.Integer,
            sa.ForeignKey("staff.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("article_id", sa.String(200), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("rating", sa.String(8), nullable=True),
        sa.Column("ticket_ref", sa.String(32), nullable=True),
        sa.Column("minutes", sa.Integer, nullable=True),
        sa.Column("deflect_until", TS, nullable=True),
        sa.Column("undone_by", sa.String(32), nullable=True),
    )
    op.create_index("ix_activity_kind_at", "activity", ["kind", "at", "council"])
    op.create_index("ix_activity_staff", "activity", ["staff_id", "kind", "at"])
    op.create_index("ix_activity_conversation", "activity", ["conversation_id", "kind", "at"])
    op.create_index("ix_tickets_created", "tickets", ["created_at"])
    op.create_index("ix_tickets_requester_created", "tickets", ["requester_id", "created_at"])
    op.create_index("ix_access_resets_done", "access_resets", ["done_at"])
    op.create_index("ix_access_codes_created", "access_codes", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_access_codes_created", "access_codes")
    op.drop_index("ix_access_resets_done", "access_resets")
    op.drop_index("ix_tickets_requester_created", "tickets")
    op.drop_index("ix_tickets_created", "tickets")
    op.drop_table("activity")
