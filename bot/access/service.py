"""Resetting someone's own access once they have proven who they are.

:class:`Access` does the checks, sends the one-time code to the alternate contact the
directory holds (never to the chat), and makes the change. What it refuses it refuses the
same way whatever the reason, in about the same time (OWASP's Forgot Password Cheat Sheet):
the reason goes to the audit log and to the desk, never to the person.

    begin ─▶ Started(code sent, "your mobile ending 123")   or   Refused(reason)
    check(code) ─▶ ok / wrong (tries left) / too_many_tries / expired
    perform ─▶ Done(temporary password, shown once)         or   Refused(reason)

Limits (NIST SP 800-63B-4 throttling, shared by every replica through the database):
``ITBOT_RESET_LIMIT`` changes per account per 24 hours, ``ITBOT_CODE_LIMIT`` codes per
person per hour. Privileged accounts (administrators) are never reset here, as Entra's
self-service password reset holds administrators to a stricter policy.
"""

from __future__ import annotations

import logging
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import codes
from bot.access.tables import AccessReset
from bot.desk.outbox import Handler
from bot.desk.tickets import OutboxMessage
from bot.settings import Settings
from bot.storage import audit, locks
from integrations.identity.base import Contact, Directory, DirectoryError, Operation, Person
from integrations.notify.base import Message, Sender, SendError

log = logging.getLogger(__name__)

#: the person's words for each change → what the directory calls it
OPERATIONS: dict[str, Operation] = {
    "reset_password": "reset_password",
    "unlock_account": "unlock",
    "reset_mfa": "reset_mfa",
}
#: where notices that could not be sent at once wait for the outbox worker
NOTICE_DESTINATION = "contact"
NOTICE_KIND = "access_notice"
Reason = Literal[
    "unknown_account",
    "privileged",
    "unsupported",
    "no_contact",
    "account_limit",
    "code_limit",
    "send_failed",
    "directory_unavailable",
]


@dataclass(frozen=True, slots=True)
class Started:
    code_id: int
    #: where the code went, masked ("your mobile ending 123")
    sent_to: str


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Reason


@dataclass(frozen=True, slots=True)
class Done:
    #: the temporary password (password resets only): shown once, never kept
    temporary: str = ""

    def __repr__(self) -> str:
        return "Done(temporary=[hidden])" if self.temporary else "Done()"


def temporary_password(length: int = 16) -> str:
    """A strong temporary password: upper, lower, digits and a symbol, no look-alikes.

    >>> p = temporary_password(); len(p) >= 16 and any(c.isdigit() for c in p)
    True
    """
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "O0Il1")
    while True:
        body = [secrets.choice(alphabet) for _ in range(length - 1)]
        body.insert(secrets.randbelow(length), secrets.choice("!#%+=?@"))
        password = "".join(body)
        if (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


class Access:
    """The checks, codes and changes of self-service resets."""

    def __init__(self, settings: Settings, directory: Directory, sender: Sender) -> None:
        self.settings = settings
        self.directory = directory
        self.sender = sender

    # -- before the code ---------------------------------------------------------------

    async def begin(
        self,
        session: AsyncSession,
        *,
        intent: str,
        staff_id: int,
        email: str,
        channel: str,
        now: datetime,
    ) -> Started | Refused:
        """Check that ``email`` may reset itself and send it a code; refusals look alike
        (the caller keeps their timing alike too: ``reset_reply_seconds``)."""
        return await self._begin(
            session, intent=intent, staff_id=staff_id, email=email, channel=channel, now=now
        )

    async def _begin(
        self,
        session: AsyncSession,
        *,
        intent: str,
        staff_id: int,
        email: str,
        channel: str,
        now: datetime,
    ) -> Started | Refused:
        operation = OPERATIONS[intent]
        details = {"operation": intent, "channel": channel, "directory": self.directory.name}
        person: Person | None = None
        try:
            person = await self.directory.find(email)
        except DirectoryError as exc:
            log.warning("directory lookup failed: %s", exc)
            return await self._refuse(session, email, "directory_unavailable", details)
        # the limits below are counted and the code issued by one request at a time for
        # this address across replicas (two at once would both see room for one more)
        await locks.hold(session, codes.LIMIT_LOCK.format(email=email))
        reason: Reason | None = None
        contact: Contact | None = None
        if person is None:
            reason = "unknown_account"
        elif person.privileged:
            reason = "privileged"
        elif operation not in self.directory.supports:
            reason = "unsupported"
        elif (contact := self._reachable(person)) is None:
            reason = "no_contact"
        elif await self.resets_since(session, email, now - timedelta(hours=24)) >= (
            self.settings.reset_limit
        ):
            reason = "account_limit"
        elif await codes.sent_since(session, staff_id, now - timedelta(hours=1)) >= (
            self.settings.code_limit
        ):
            reason = "code_limit"
        if reason is not None or contact is None:
            return await self._refuse(session, email, reason or "no_contact", details)
        issued = await codes.issue(
            session,
            purpose=intent,
            subject=email,
            requester_id=staff_id,
            now=now,
            minutes=self.settings.code_minutes,
            sent_to=contact.masked(),
            channel=channel,
        )
        text = (
            f"{issued.code} is your {self.settings.desk_name} code to "
            f"{_WHAT[intent]}. It expires in {self.settings.code_minutes} minutes. "
            "Never share it: the desk will never ask you for it."
        )
        try:
            await self.sender.send(
                Message(
                    to=contact.address,
                    channel=contact.kind,
                    text=text,
                    subject=f"Your {self.settings.desk_name} code",
                    purpose="code",
                    secret=True,
                )
            )
        except SendError as exc:
            log.warning("code not sent via %s: %s", self.sender.name, exc)
            await codes.end(session, issued.id, now, "not_sent")
            return await self._refuse(session, email, "send_failed", details)
        await audit.record(
            session,
            actor=email,
            action="access_code_sent",
            subject=email,
            sent_to=contact.masked(),
            **details,
        )
        return Started(issued.id, contact.masked())

    def _reachable(self, person: Person) -> Contact | None:
        return next((c for c in person.contacts if c.kind in self.sender.channels), None)

    async def _refuse(
        self, session: AsyncSession, email: str, reason: Reason, details: dict[str, str]
    ) -> Refused:
        await audit.record(
            session, actor=email, action="access_refused", subject=email, reason=reason, **details
        )
        return Refused(reason)

    # -- the code ----------------------------------------------------------------------

    async def check(
        self,
        session: AsyncSession,
        *,
        code_id: int,
        typed: str,
        email: str,
        intent: str,
        channel: str,
        now: datetime,
    ) -> codes.Check:
        result = await codes.check(session, code_id, typed, now)
        if result.verdict != "ok":
            await audit.record(
                session,
                actor=email,
                action="access_code_rejected",
                subject=email,
                operation=intent,
                channel=channel,
                outcome=result.verdict,
            )
        return result

    # -- the change --------------------------------------------------------------------

    async def perform(
        self,
        session: AsyncSession,
        *,
        intent: str,
        email: str,
        channel: str,
        now: datetime,
        approved_by: str = "",
    ) -> Done | Refused:
        """Make the change on ``email``'s account (its code was right; approvals given)."""
        operation = OPERATIONS[intent]
        details = {"operation": intent, "channel": channel, "directory": self.directory.name}
        try:
            person = await self.directory.find(email)
            if person is None or person.privileged or operation not in self.directory.supports:
                return await self._refuse(session, email, "privileged", details)
            temporary = ""
            if operation == "reset_password":
                temporary = temporary_password()
                await self.directory.reset_password(person, temporary)
            elif operation == "unlock":
                await self.directory.unlock(person)
            else:
                await self.directory.reset_mfa(person)
        except DirectoryError as exc:
            log.warning("directory change failed: %s", exc)
            return await self._refuse(session, email, "directory_unavailable", details)
        session.add(
            AccessReset(
                subject=email,
                operation=intent,
                channel=channel,
                directory=self.directory.name,
                done_at=now,
            )
        )
        extra = {"approved_by": approved_by} if approved_by else {}
        await audit.record(
            session, actor=email, action="access_reset", subject=email, outcome="done",
            **details, **extra,
        )  # fmt: skip
        await self._tell_contact(session, person, intent, now)
        return Done(temporary)

    async def _tell_contact(
        self, session: AsyncSession, person: Person, intent: str, now: datetime
    ) -> None:
        """Tell the person on their alternate contact what changed, and what to do if it
        wasn't them (NIST: notify of account changes). Queued if it can't go now."""
        contact = self._reachable(person)
        if contact is None:
            return
        settings = self.settings
        council = settings.council_for_email(person.email)
        phone = council.desk_phone if council else settings.councils[0].desk_phone
        text = (
            f"{settings.desk_name}: {_DONE[intent]} for {person.email} on "
            f"{now:%d %b %Y at %H:%M} UTC. If this wasn't you, call the desk now on {phone}."
        )
        message = Message(
            to=contact.address,
            channel=contact.kind,
            text=text,
            subject=f"{settings.desk_name}: your account was changed",
            purpose="access_changed",
        )
        try:
            await self.sender.send(message)
        except SendError as exc:
            log.warning("notice not sent now, queued: %s", exc)
            session.add(
                OutboxMessage(
                    ticket_id=None,
                    kind=NOTICE_KIND,
                    destination=NOTICE_DESTINATION,
                    payload={
                        "to": message.to,
                        "channel": message.channel,
                        "text": message.text,
                        "subject": message.subject,
                    },
                    created_at=now,
                    available_at=now,
                    attempts=0,
                )
            )

    async def send_notice(self, session: AsyncSession, row: OutboxMessage) -> None:
        """The outbox handler of queued notices (raises to be retried later)."""
        payload = row.payload
        await self.sender.send(
            Message(
                to=str(payload["to"]),
                channel="sms" if payload.get("channel") == "sms" else "email",
                text=str(payload["text"]),
                subject=str(payload.get("subject", "")),
                purpose="access_changed",
            )
        )

    def handlers(self) -> dict[str, Handler]:
        return {NOTICE_KIND: self.send_notice}

    @staticmethod
    async def resets_since(session: AsyncSession, email: str, since: datetime) -> int:
        query = select(func.count(AccessReset.id)).where(
            AccessReset.subject == email, AccessReset.done_at > since
        )
        return int((await session.execute(query)).scalar_one())

    async def aclose(self) -> None:
        await self.directory.aclose()
        await self.sender.aclose()


_WHAT = {
    "reset_password": "reset your password",
    "unlock_account": "unlock your account",
    "reset_mfa": "reset your sign-in verification (MFA)",
}
_DONE = {
    "reset_password": "your password was reset",
    "unlock_account": "your account was unlocked",
    "reset_mfa": "your sign-in verification methods (MFA) were removed",
}
