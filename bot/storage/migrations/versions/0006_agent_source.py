"""Why someone is a service desk agent: ``staff.agent_via``.

Revision ID: 0006
Revises: 0005

``is_agent`` was a bare flag: set once from ``ITBOT_DESK_AGENTS`` or the agents' Slack user
group, it stayed after the person left the list or the group. ``agent_via`` records the
source ("manual", "settings", "slack_group") so agents from the list or the group lose the
flag when they leave it. Agents flagged before this revision count as "manual": nobody
loses access on upgrade; ``itbot desk remove-agent`` takes it away.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("agent_via", sa.String(16), nullable=True))
    op.execute("UPDATE staff SET agent_via = 'manual' WHERE is_agent")


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("agent_via")
