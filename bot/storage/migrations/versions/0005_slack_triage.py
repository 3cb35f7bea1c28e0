"""Slack threads that belong to tickets; the next SLA alert each open ticket is due.

Revision ID: 0005
Revises: 0004

``slack_ticket_threads`` maps a Slack message (channel + ts) to a ticket: the ticket's
message in the triage channel (agents' thread replies reach the requester) and the
notifications sent to the requester's DM (their thread replies reach the agents).

``tickets.sla_next_alert_at`` is when the next at-risk/breached alert falls due, so the
SLA watch reads only the tickets that need an alert now (an index range), never every
breached ticket again at each pass.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_ticket_threads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("channel", "ts", name="uq_slack_ticket_threads_message"),
    )
    op.create_index("ix_slack_ticket_threads_ticket", "slack_ticket_threads", ["ticket_id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("sla_next_alert_at", TS, nullable=True))
    op.create_index("ix_tickets_sla_next_alert", "tickets", ["sla_next_alert_at"])
    # Open tickets raised before this revision: the watch starts from their first alert
    # line. Tickets already past their resolution deadline get none: the dashboard shows
    # them as breached, and alerting every one of them at once on upgrade would bury the
    # triage channel (and the server) under a backlog nobody can act on as "news".
    op.execute(
        "UPDATE tickets SET sla_next_alert_at = response_risk_at "
        "WHERE status IN ('new', 'open', 'pending') AND resolution_due > CURRENT_TIMESTAMP"
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_sla_next_alert", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("sla_next_alert_at")
    op.drop_index("ix_slack_ticket_threads_ticket", table_name="slack_ticket_threads")
    op.drop_table("slack_ticket_threads")
