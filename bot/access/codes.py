"""One-time codes: six digits, short-lived, single use, stored hashed, five tries.

Follows NIST SP 800-63B-4's out-of-band authenticator rules: a code is random (the
``secrets`` module), valid for at most ten minutes, used once, compared in constant time,
and a run of wrong guesses ends it. Only a salted scrypt hash is kept, so a copy of the
database doesn't give live codes away. A new code for the same purpose and account ends
the previous one.

>>> code = new_code()
>>> len(code), code.isdigit()
(6, True)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access.tables import OneTimeCode

DIGITS = 6
MAX_WRONG = 5
#: the lock (see ``bot.storage.locks``) under which codes to an address are counted and issued
LIMIT_LOCK = "code-limit:{email}"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_TYPED = re.compile(r"^\s*(\d[\d\s-]{4,14}\d)\s*$")
_IN_WORDS = re.compile(r"(?<![\d-])(\d{3}[\s-]?\d{3})(?![\d-])")

Verdict = Literal["ok", "wrong", "too_many_tries", "expired", "unknown"]


@dataclass(frozen=True, slots=True)
class Issued:
    """A code just made: ``code`` goes to the person and is then forgotten."""

    id: int
    code: str = ""

    def __repr__(self) -> str:  # the code must never reach a log line
        return f"Issued(id={self.id})"


@dataclass(frozen=True, slots=True)
class Check:
    verdict: Verdict
    #: wrong tries left after this one (for "2 tries left")
    tries_left: int = 0


def new_code() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def typed_code(text: str) -> str | None:
    """The code in ``text`` if it looks like an answer with one ("123 456", "it's 123-456").

    >>> typed_code(" 123 456 "), typed_code("the code is 123456"), typed_code("hello")
    ('123456', '123456', None)
    >>> typed_code("12"), typed_code("JSD-000123 and 123456")
    (None, None)
    """
    found = _TYPED.match(text)
    if found is not None:
        return re.sub(r"\D", "", found.group(1))
    if len(text) > 60:
        return None
    groups = _IN_WORDS.findall(text)
    if len(groups) != 1 or re.search(r"[A-Za-z]-\d", text):
        return None
    return re.sub(r"\D", "", groups[0])


async def _digest(code: str, salt: bytes) -> bytes:
    # scrypt costs ~40 ms of CPU: in a thread, so the event loop keeps serving
    return await asyncio.to_thread(hashlib.scrypt, code.encode(), salt=salt, **_SCRYPT)


async def issue(
    session: AsyncSession,
    *,
    purpose: str,
    subject: str,
    requester_id: int | None,
    now: datetime,
    minutes: int,
    sent_to: str = "",
    channel: str = "",
) -> Issued:
    """Make a code for ``purpose`` on ``subject`` and keep its hash (earlier ones end)."""
    await session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.subject == subject,
            OneTimeCode.purpose == purpose,
            OneTimeCode.ended == "",
        )
        .values(ended="replaced", ended_at=now)
    )
    code = new_code()
    salt = secrets.token_bytes(16)
    row = OneTimeCode(
        purpose=purpose,
        subject=subject,
        requester_id=requester_id,
        salt=salt,
        digest=await _digest(code, salt),
        sent_to=sent_to,
        channel=channel,
        created_at=now,
        expires_at=now + timedelta(minutes=min(minutes, 10)),
    )
    session.add(row)
    await session.flush()
    return Issued(row.id, code)


async def check(session: AsyncSession, code_id: int, typed: str, now: datetime) -> Check:
    """Compare ``typed`` with code ``code_id``: a right code is used up, the fifth wrong
    one ends it. The row is locked while it is checked, so two replicas can't both use it."""
    row = (
        await session.execute(
            select(OneTimeCode).where(OneTimeCode.id == code_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.ended not in ("", "expired"):
        if row is not None and row.ended == "too_many_tries":
            return Check("too_many_tries")
        return Check("unknown")
    if row.ended == "expired" or row.expires_at <= now:
        if not row.ended:
            row.ended, row.ended_at = "expired", now
        return Check("expired")
    digits = re.sub(r"\D", "", typed)
    # always hash, even for a wrongly sized guess, so a reply takes the same time
    candidate = await _digest(digits if len(digits) == DIGITS else "x" + digits, row.salt)
    if hmac.compare_digest(candidate, row.digest):
        row.ended, row.ended_at = "used", now
        return Check("ok")
    row.wrong_tries += 1
    if row.wrong_tries >= MAX_WRONG:
        row.ended, row.ended_at = "too_many_tries", now
        return Check("too_many_tries")
    return Check("wrong", tries_left=MAX_WRONG - row.wrong_tries)


async def sent_since(session: AsyncSession, requester_id: int, since: datetime) -> int:
    """How many codes were sent for ``requester_id`` since ``since`` (the hourly limit)."""
    query = select(func.count(OneTimeCode.id)).where(
        OneTimeCode.requester_id == requester_id, OneTimeCode.created_at > since
    )
    return int((await session.execute(query)).scalar_one())


async def sent_to_subject_since(session: AsyncSession, subject: str, since: datetime) -> int:
    """How many codes went to ``subject``'s contacts since ``since`` (sign-in limit)."""
    query = select(func.count(OneTimeCode.id)).where(
        OneTimeCode.subject == subject, OneTimeCode.created_at > since
    )
    return int((await session.execute(query)).scalar_one())


async def end(session: AsyncSession, code_id: int, now: datetime, why: str = "cancelled") -> None:
    """End a code nobody will use (the person cancelled)."""
    await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code_id, OneTimeCode.ended == "")
        .values(ended=why, ended_at=now)
    )
