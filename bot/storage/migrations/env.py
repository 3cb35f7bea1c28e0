"""Alembic environment: always run with a connection handed in by ``Database.upgrade``."""

from __future__ import annotations

from alembic import context

import bot.desk.accounts
import bot.desk.models  # noqa: F401 - registers the desk's tables (tickets, agents' logins)
from bot.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded: we never run alembic's CLI directly
    raise RuntimeError("run migrations with `itbot db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
