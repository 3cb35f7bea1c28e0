"""Retention: what people typed is kept for ``ITBOT_RETENTION_DAYS`` (180), then purged.

:func:`purge` removes, from everything older than ``before``:

* **turns**: what the person typed, the bot's replies and the press they made are blanked;
  the facts stay (when, intent, flow, outcome, and in the details only the articles given,
  the rating's article and verdict, the ticket or approval it led to), so counts still add up;
* **conversation states**: the state of a conversation idle since then (a half-written
  ticket, a parked flow) is cleared;
* **ticket transcripts**: the copy of the conversation a ticket was raised from;
* **ticket texts**: of tickets resolved or closed (and untouched) since then, the
  description, impact, the rating's comment (feedback) and every comment's body. A ticket
  keeps its summary, status, category, priority, clocks and history (events): the desk's
  record. An open ticket keeps its texts while the desk works on it;
* **delivered notifications**, **finished Slack inbox rows**, the payloads of **sent or
  failed outbox rows**, **ended web chat sessions**, **expired one-time codes** (hashed, but
  addressed to someone) and **dashboard sign-in attempts**.

The audit log is append-only and is never touched; no ticket is deleted. Each step is an
UPDATE or DELETE with a WHERE that skips rows already purged, so running it twice does no
harm: the second run finds nothing to do. On PostgreSQL a purge holds an advisory lock
(:data:`LOCK`), so replicas never purge at once (no two transactions contending for the
same rows); the periodic job skips its pass when another replica holds it.

>>> counts = await purge_once(db, now=utcnow(), days=180)   # doctest: +SKIP
>>> counts["turns"]                                         # doctest: +SKIP
12
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.access.tables import OneTimeCode
from bot.desk.accounts import DeskLoginAttempt
from bot.desk.tickets import OutboxMessage, Ticket, TicketComment
from bot.storage import Database, locks, slack_inbox
from bot.storage.models import Conversation, Turn, utcnow
from bot.storage.notifications import Notification
from bot.storage.web_sessions import WebSession

log = logging.getLogger(__name__)

#: the keys of a turn's details that hold facts, not words: kept when the texts go
KEPT_DETAILS: Final = ("articles", "article", "helpful", "ticket", "approval")
#: a ticket whose texts may go once it is this and untouched for the retention period
FINISHED: Final = ("resolved", "closed")
#: every kind :func:`purge` counts, in the order it reports them
KINDS: Final = (
    "turns",
    "conversation_states",
    "ticket_transcripts",
    "ticket_texts",
    "ticket_comments",
    "notifications",
    "slack_inbox",
    "desk_outbox",
    "web_sessions",
    "access_codes",
    "desk_login_attempts",
)
_BATCH = 500


def cutoff(now: datetime, days: int) -> datetime:
    """The moment before which texts go: ``days`` before ``now`` (0: everything up to now)."""
    return now - timedelta(days=days)


def kept_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """A turn's details without anything someone typed or was told.

    >>> kept_details({"articles": ["a"], "question": "my pc", "replies": [{"text": "Hi"}]})
    {'articles': ['a']}
    """
    return {k: v for k, v in (details or {}).items() if k in KEPT_DETAILS}


async def purge(session: AsyncSession, *, before: datetime) -> dict[str, int]:
    """Purge what people typed before ``before``; how many rows of each kind changed."""
    counts = dict.fromkeys(KINDS, 0)
    counts["turns"] = await _turns(session, before)
    counts["conversation_states"] = _count(
        await session.execute(
            update(Conversation)
            .where(
                Conversation.updated_at < before,
                or_(
                    Conversation.flow.is_not(None),
                    cast(Conversation.data, Text).not_in(("{}", "null")),
                ),
            )
            .values(flow=None, step=None, data={})
        )
    )
    counts["ticket_transcripts"] = _count(
        await session.execute(
            update(Ticket)
            .where(
                Ticket.created_at < before,
                cast(Ticket.transcript, Text).not_in(("[]", "null")),
            )
            .values(transcript=[])
        )
    )
    finished = (Ticket.status.in_(FINISHED), Ticket.updated_at < before)
    counts["ticket_texts"] = _count(
        await session.execute(
            update(Ticket)
            .where(
                *finished,
                or_(
                    Ticket.description != "", Ticket.impact != "", Ticket.csat_comment.is_not(None)
                ),
            )
            .values(description="", impact="", csat_comment=None)
        )
    )
    counts["ticket_comments"] = _count(
        await session.execute(
            update(TicketComment)
            .where(
                TicketComment.ticket_id.in_(select(Ticket.id).where(*finished)),
                TicketComment.body != wording.PURGED_TEXT,
                TicketComment.body != wording.ERASED_TEXT,
            )
            .values(body=wording.PURGED_TEXT)
        )
    )
    counts["notifications"] = _count(
        await session.execute(
            delete(Notification).where(
                Notification.delivered_at.is_not(None), Notification.delivered_at < before
            )
        )
    )
    counts["slack_inbox"] = await slack_inbox.prune(
        await session.connection(), finished_before=before
    )
    # emptied, not deleted: a kept notification's key names its outbox row, and SQLite
    # would give a deleted newest row's id to the next one
    counts["desk_outbox"] = _count(
        await session.execute(
            update(OutboxMessage)
            .where(
                or_(OutboxMessage.sent_at < before, OutboxMessage.failed_at < before),
                cast(OutboxMessage.payload, Text).not_in(("{}", "null")),
            )
            .values(payload={})
        )
    )
    counts["web_sessions"] = _count(
        await session.execute(
            delete(WebSession).where(
                or_(WebSession.expires_at < before, WebSession.revoked_at < before)
            )
        )
    )
    # a code a session still names stays (SQLite could give its id to a new code)
    named = select(WebSession.code_id).where(WebSession.code_id.is_not(None))
    counts["access_codes"] = _count(
        await session.execute(
            delete(OneTimeCode).where(OneTimeCode.expires_at < before, OneTimeCode.id.not_in(named))
        )
    )
    counts["desk_login_attempts"] = _count(
        await session.execute(delete(DeskLoginAttempt).where(DeskLoginAttempt.created_at < before))
    )
    return counts


async def _turns(session: AsyncSession, before: datetime) -> int:
    """Blank the texts of turns before ``before``, a batch at a time, keeping the facts."""
    unpurged = (
        Turn.created_at < before,
        or_(Turn.user_text != "", Turn.reply_text != "", Turn.action.is_not(None)),
    )
    done = 0
    last_id = 0
    while True:
        query = (
            select(Turn.id, Turn.details)
            .where(*unpurged, Turn.id > last_id)
            .order_by(Turn.id)
            .limit(_BATCH)
        )
        rows = (await session.execute(query)).all()
        if not rows:
            return done
        for turn_id, details in rows:
            done += _count(
                await session.execute(
                    update(Turn)
                    .where(Turn.id == turn_id, *unpurged)
                    .values(user_text="", reply_text="", action=None, details=kept_details(details))
                )
            )
        last_id = int(rows[-1][0])


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


#: the lock one purge holds, so replicas never purge at the same time (see ``locks``)
LOCK = "retention-purge"


async def purge_once(db: Database, *, now: datetime, days: int) -> dict[str, int]:
    """One purge of everything older than ``days`` before ``now``, in one transaction
    (after any purge under way on another replica: that one's rows are then skipped)."""
    async with db.session() as session, session.begin():
        await locks.hold(session, LOCK)
        return await purge(session, before=cutoff(now, days))


async def purge_unless_busy(db: Database, *, now: datetime, days: int) -> dict[str, int] | None:
    """:func:`purge_once`, or ``None`` at once if another replica is purging right now: the
    replicas' periodic jobs purge once between them, never twice over the same rows (nor
    deadlock on them)."""
    async with db.session() as session, session.begin():
        if not await locks.try_hold(session, LOCK):
            return None
        return await purge(session, before=cutoff(now, days))


async def watch_retention(
    db: Database,
    stop: asyncio.Event,
    *,
    days: int,
    every: float,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Purge every ``every`` seconds until ``stop`` is set (the job inside ``itbot serve``).

    The first pass runs ``every`` seconds after the start, not at once, so a server that
    is restarted again and again doesn't purge at each start. Several replicas may run it:
    one purges at a time (an advisory lock), and a pass that finds another replica purging
    is skipped.
    """
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            counts = await purge_unless_busy(db, now=clock(), days=days)
        except Exception:
            log.exception("retention purge failed; trying again at the next pass")
        else:
            if counts is None:
                log.info("retention purge: another replica is purging; skipped this pass")
            elif any(counts.values()):
                log.info("retention purge (%d days): %s", days, describe(counts))


def describe(counts: dict[str, int]) -> str:
    """``turns=3 ticket_transcripts=1 ...``: every kind, in order, for logs and the CLI.

    >>> describe({"turns": 2, "notifications": 0})
    'turns=2 notifications=0'
    """
    return " ".join(f"{kind}={n}" for kind, n in counts.items())
