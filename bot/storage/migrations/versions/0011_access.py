"""Access resets: hashed one-time codes and the resets done (for the per-account limit).

Revision ID: 0011
Revises: 0010

``access_codes`` keeps a salted scrypt hash of each code, never the code; ``access_resets``
one row per change made to an account, which the 24-hour limit counts. Both are shared
by every replica, so the limits hold across them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "access_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("requester_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("sent_to", sa.String(120), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("wrong_tries", sa.Integer, nullable=False),
        sa.Column("ended", sa.String(16), nullable=False),
        sa.Column("ended_at", TS, nullable=True),
    )
    op.create_index("ix_access_codes_requester", "access_codes", ["requester_id", "created_at"])
    op.create_index("ix_access_codes_subject", "access_codes", ["subject", "purpose", "ended"])
    op.create_table(
        "access_resets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("directory", sa.String(16), nullable=False),
        sa.Column("done_at", TS, nullable=False),
    )
    op.create_index("ix_access_resets_subject", "access_resets", ["subject", "done_at"])


def downgrade() -> None:
    op.drop_table("access_resets")
    op.drop_table("access_codes")
