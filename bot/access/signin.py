"""Proving a mailbox: a one-time code sent to the address someone typed into the web chat.

The same codes as resets (:mod:`bot.access.codes`: six digits, hashed, single use, five
tries, at most ten minutes) and the same notifier (``ITBOT_NOTIFY``), with the purpose
``sign_in``. The code goes to the address itself, so whoever types it back reads that
mailbox. Sends are limited per address (``ITBOT_CODE_LIMIT`` an hour, counted in the
database, so every replica shares the count). What happens is audited; the code never is.

    send(email) ─▶ Sent(code_id)  or  Limited  or  NotSent
    check(code_id, typed) ─▶ ok / wrong (tries left) / too_many_tries / expired / unknown
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import codes
from bot.settings import Settings
from bot.storage import audit, locks
from integrations.notify.base import Message, Sender, SendError

log = logging.getLogger(__name__)

PURPOSE = "sign_in"


@dataclass(frozen=True, slots=True)
class Sent:
    code_id: int


@dataclass(frozen=True, slots=True)
class NotSent:
    #: ``limit``: too many codes to this address this hour; ``failed``: the notifier failed
    reason: Literal["limit", "failed"]


def code_text(settings: Settings, code: str) -> str:
    """What the email says (the code first, so a phone's autofill finds it)."""
    return (
        f"{code} is your {settings.desk_name} sign-in code. It lasts "
        f"{settings.code_minutes} minutes. If you didn't ask for it, ignore this email: "
        "nobody can sign in as you without it."
    )


async def send(
    session: AsyncSession, settings: Settings, sender: Sender, *, email: str, now: datetime
) -> Sent | NotSent:
    """Send a sign-in code to ``email`` (any earlier one for it ends), unless over the limit.

    The count and the new code happen under ``email``'s lock (:mod:`bot.storage.locks`),
    so requests at once on several replicas cannot all slip under the limit."""
    await locks.hold(session, codes.LIMIT_LOCK.format(email=email))
    if await codes.sent_to_subject_since(session, email, now - timedelta(hours=1)) >= (
        settings.code_limit
    ):
        await audit.record(
            session, actor=email, action="web_sign_in_refused", subject=email, reason="code_limit"
        )
        return NotSent("limit")
    issued = await codes.issue(
        session,
        purpose=PURPOSE,
        subject=email,
        requester_id=None,
        now=now,
        minutes=settings.code_minutes,
        sent_to=email,
        channel="web",
    )
    try:
        await sender.send(
            Message(
                to=email,
                channel="email",
                text=code_text(settings, issued.code),
                subject=f"Your {settings.desk_name} sign-in code",
                purpose="sign_in_code",
                secret=True,
            )
        )
    except SendError as exc:
        log.warning("sign-in code not sent via %s: %s", sender.name, exc)
        await codes.end(session, issued.id, now, "not_sent")
        return NotSent("failed")
    await audit.record(session, actor=email, action="web_sign_in_code_sent", subject=email)
    return Sent(issued.id)


async def check(
    session: AsyncSession, *, code_id: int, typed: str, email: str, now: datetime
) -> codes.Check:
    """Compare the typed code with the session's; a right one is used up (and audited)."""
    result = await codes.check(session, code_id, typed, now)
    action = "web_sign_in" if result.verdict == "ok" else "web_sign_in_code_rejected"
    await audit.record(session, actor=email, action=action, subject=email, outcome=result.verdict)
    return result
