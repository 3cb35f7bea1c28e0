"""Named locks shared by every replica: PostgreSQL transaction-scoped advisory locks.

A job or a limit that must act once across replicas (a count followed by an insert, a
periodic purge) takes its name's lock in its transaction; the lock goes when the
transaction ends. SQLite has one writer at a time, so there the lock is a no-op.

>>> key_of("retention-purge") == key_of("retention-purge")
True
>>> -(2**63) <= key_of("code-limit:sam@example.org") < 2**63
True
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


def key_of(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def hold(session: AsyncSession, name: str) -> None:
    """Wait for ``name``'s lock and hold it until the session's transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(key_of(name))))


async def try_hold(session: AsyncSession, name: str) -> bool:
    """Take ``name``'s lock for the transaction if it is free; ``False`` if another has it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = await session.scalar(select(func.pg_try_advisory_xact_lock(key_of(name))))
    return bool(taken)
