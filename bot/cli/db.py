"""``itbot db upgrade|current``: database migrations."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.settings import Settings
from bot.storage import Database
from bot.storage.db import head_revision


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("db", help="database migrations")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply every pending migration")
    upgrade.set_defaults(handler=run_upgrade)
    current = db_sub.add_parser("current", help="show the database's migration revision")
    current.set_defaults(handler=run_current)


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> str | None:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            return await db.current_revision()
        finally:
            await db.dispose()

    revision = asyncio.run(go())  # StorageError: itbot prints its one line
    print(f"database at revision {revision} (head {head_revision()})")
    return 0


def run_current(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> str | None:
        db = Database(settings.database_url)
        try:
            return await db.current_revision()
        finally:
            await db.dispose()

    print(f"database at revision {asyncio.run(go())} (head {head_revision()})")
    return 0
