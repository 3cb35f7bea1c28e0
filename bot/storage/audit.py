"""The append-only audit log (database triggers refuse updates and deletes), and its reading.

Every access reset, approval and agent action is appended with :func:`record`; the
dashboard's audit page and ``itbot audit list`` read it with :func:`search`, newest first.

>>> await search(session, AuditFilter(action="approval_approved"), limit=50)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEntry


async def record(
    session: AsyncSession, *, actor: str, action: str, subject: str = "", **details: Any
) -> AuditEntry:
    """Append one entry. Never pass a secret in ``details``."""
    entry = AuditEntry(actor=actor, action=action, subject=subject, details=details)
    session.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries to read: every field left empty matches everything."""

    #: exactly this actor (an email, in any case, ``system``, ``jira:Kim``)
    actor: str = ""
    #: exactly this action (``ticket_status``, ``approval_approved``, ...)
    action: str = ""
    #: the subject contains this text (case does not matter)
    subject: str = ""
    #: from this moment (inclusive)
    since: datetime | None = None
    #: before this moment
    before: datetime | None = None


async def search(
    session: AsyncSession, filters: AuditFilter, *, limit: int = 50, offset: int = 0
) -> list[AuditEntry]:
    """Entries matching ``filters``, newest first."""
    query = select(AuditEntry)
    if filters.actor:
        actor = filters.actor.strip()
        # emails are stored in lower case; other actors (``jira:Kim``) as they came
        query = query.where(AuditEntry.actor.in_(sorted({actor, actor.lower()})))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action.strip())
    if filters.subject:
        pattern = "%" + _escape_like(filters.subject.strip().lower()) + "%"
        query = query.where(func.lower(AuditEntry.subject).like(pattern, escape="\\"))
    if filters.since is not None:
        query = query.where(AuditEntry.created_at >= filters.since)
    if filters.before is not None:
        query = query.where(AuditEntry.created_at < filters.before)
    query = (
        query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(max(limit, 0))
        .offset(max(offset, 0))
    )
    return list((await session.execute(query)).scalars().all())


async def actions(session: AsyncSession) -> list[str]:
    """Every action the log holds, in order (for the page's filter)."""
    query = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return [str(a) for a in (await session.execute(query)).scalars().all()]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
