"""OIDC sign-ins under way in the web chat (state, browser key: hashed; used once).

Revision ID: 0015
Revises: 0014

``web_oidc_pending`` holds one row per trip to the identity provider: the SHA-256 of the
``state`` and of the browser key in the ``itbot_oidc`` cookie, where to return, when it
expires and when the callback used it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_oidc_pending",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("return_to", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("web_oidc_pending")
