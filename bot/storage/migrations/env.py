"""Alembic environment: always run with a connection handed in by ``Database.upgrade``."""

from __future__ import annotations

from alembic import context

from bot.storage.metadata import every_metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded: we never run alembic's CLI directly
    raise RuntimeError("run migrations with `itbot db upgrade`")

context.configure(
    connection=connection,
    target_metadata=list(every_metadata),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
