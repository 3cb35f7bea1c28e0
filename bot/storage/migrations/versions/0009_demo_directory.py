"""The built-in demo directory (``ITBOT_DIRECTORY=demo``): invented people, in the bot's
own database, for the quick start.

Revision ID: 0009
Revises: 0008

``integrations/identity/demo.py`` owns the table (``demo_directory``) and seeds it;
passwords are stored as salted scrypt hashes, never in plain text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demo_directory",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("council", sa.String(64), nullable=False),
        sa.Column("mobile", sa.String(32)),
        sa.Column("personal_email", sa.String(320)),
        sa.Column("privileged", sa.Boolean, nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("mfa_methods", sa.JSON, nullable=False),
        sa.Column("sessions_revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("demo_directory")
