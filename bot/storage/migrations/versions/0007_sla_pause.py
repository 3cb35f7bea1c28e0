"""SLA clocks pause while a ticket is pending: ``tickets.sla_paused_at`` and
``tickets.sla_paused_seconds``.

Revision ID: 0007
Revises: 0006

A pending ticket waits for its requester, so its response and resolution clocks stand
still; when it leaves "pending", its due times move on by the working time it waited
(``sla_paused_seconds`` keeps the total, so a later priority change keeps it too). Tickets
already pending at the upgrade are paused from the upgrade on, and get no SLA alerts
until they leave "pending".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("sla_paused_at", TS, nullable=True))
        batch.add_column(
            sa.Column("sla_paused_seconds", sa.Integer, nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE tickets SET sla_paused_at = CURRENT_TIMESTAMP, sla_next_alert_at = NULL "
        "WHERE status = 'pending'"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("sla_paused_seconds")
        batch.drop_column("sla_paused_at")
