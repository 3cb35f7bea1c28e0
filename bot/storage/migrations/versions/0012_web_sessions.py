"""Web chat sessions kept server-side: a hashed id, proven or not, revocable.

Revision ID: 0012
Revises: 0011

``web_sessions`` holds one row per signed-in browser: the SHA-256 of the random id in the
``itbot_session`` cookie (never the id), the email it names, whether that email is proven
(a code sent to the mailbox was typed), the sign-in code waiting, and when it expires or
was revoked. Cookies of the old signed-email kind name no row, so they sign nobody in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("proven", sa.Boolean, nullable=False),
        sa.Column("code_id", sa.Integer, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_seen", TS, nullable=False),
    )
    op.create_index("ix_web_sessions_expires", "web_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("web_sessions")
