"""The email channel's tables: mail read once, mail sent, attachments kept.

Revision ID: 0017
Revises: 0014

``email_messages`` records each mail read from the desk's mailbox by its Message-ID (else
its UID), written with the ticket or comment it made, so a mail is acted on once across
replicas and restarts. ``email_outgoing`` queues the mail the channel sends (its own
Message-IDs thread replies to tickets; counts per recipient rate-limit replies).
``email_attachments`` keeps the files that came with a mail, with its ticket.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "email_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column(
            "ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_email_messages_ticket", "email_messages", ["ticket_id"])
    op.create_table(
        "email_outgoing",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(255), nullable=False, unique=True),
        sa.Column(
            "ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("source_key", sa.String(64), nullable=True, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sending_at", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    op.create_index("ix_email_outgoing_ticket", "email_outgoing", ["ticket_id"])
    op.create_index("ix_email_outgoing_recipient", "email_outgoing", ["recipient", "created_at"])
    op.create_index("ix_email_outgoing_unsent", "email_outgoing", ["sent_at"])
    op.create_table(
        "email_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_key", sa.String(255), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_email_attachments_ticket", "email_attachments", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("email_attachments")
    op.drop_table("email_outgoing")
    op.drop_table("email_messages")
