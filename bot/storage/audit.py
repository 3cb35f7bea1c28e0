"""The append-only audit log (database triggers refuse updates and deletes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEntry


async def record(
    session: AsyncSession, *, actor: str, action: str, subject: str = "", **details: Any
) -> AuditEntry:
    """Append one entry. Never pass a secret in ``details``."""
    entry = AuditEntry(actor=actor, action=action, subject=subject, details=details)
    session.add(entry)
    return entry
