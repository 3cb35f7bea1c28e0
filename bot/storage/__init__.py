"""Persistence: SQLAlchemy 2 typed models, the async engine, migrations and repositories."""

from bot.storage.db import Database

__all__ = ["Database"]
