"""An outbox worker in its own process, for the SIGKILL test: short leases renewed by
heartbeat, and a handler that prints the row it is delivering and then never finishes.

    python -m tests.desk.outbox_victim DATABASE_URL
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.outbox import OutboxWorker
from bot.desk.tickets import OutboxMessage
from bot.storage import Database

LEASE = timedelta(seconds=3)


async def main(url: str) -> None:
    db = Database(url)

    async def stuck(session: AsyncSession, row: OutboxMessage) -> None:
        print(f"delivering {row.id}", flush=True)
        await asyncio.Event().wait()

    worker = OutboxWorker(db, lease=LEASE, heartbeat=0.5)
    worker.register("external", {"ticket_created": stuck})
    await worker.run(asyncio.Event(), interval=0.2)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
