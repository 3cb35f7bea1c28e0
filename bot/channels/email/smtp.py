"""Sending the channel's queued mail through the desk's SMTP server, with aiosmtplib (or
through Graph, with ``ITBOT_EMAIL_PROVIDER=graph``).

Mail is queued in ``email_outgoing`` by the transaction that decided it; :class:`Sender`
claims unsent rows (a lease, so two replicas never send one twice at the same time and a
crashed sender's rows go out later), sends each and marks it sent. A mail that fails is
tried again after ``ITBOT_EMAIL_SEND_RETRY_SECONDS``, doubling (up to the lease), up to
:data:`MAX_ATTEMPTS` tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import ssl
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aiosmtplib

from bot.channels.email.imap import MailboxError
from bot.settings import Settings
from bot.storage import Database, email_mail
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

#: how long a claimed mail is held by one sender before another may try it
LEASE = timedelta(minutes=5)
#: tries before a mail is given up on (logged; the row stays, unsent, with its attempts)
MAX_ATTEMPTS = 8
#: how often queued mail is looked for when nothing wakes the sender
IDLE_SECONDS = 2.0


#: sends one whole message to one recipient (SMTP here; Graph's ``sendMail`` for ``graph``)
Transport = Callable[[str, str], Awaitable[None]]


class Sender:
    """Sends queued mail from the desk's address. Run :meth:`run` as a task."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        transport: Transport | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.wakeup = asyncio.Event()
        self._tls_context = tls_context
        self._transport: Transport = transport or self._send

    def wake(self) -> None:
        self.wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.send_due()
            except Exception:
                log.exception("email: sending queued mail failed")
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_SECONDS):
                    waits = [asyncio.ensure_future(e.wait()) for e in (stop, self.wakeup)]
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for waiting in waits:
                            waiting.cancel()

    async def send_due(self) -> int:
        """Send what is queued and not held by another sender; how many were sent."""
        now = utcnow()
        async with self.db.session() as session, session.begin():
            rows = await email_mail.claim_unsent(
                session, now, lease=LEASE, max_attempts=MAX_ATTEMPTS
            )
            due = [(r.id, r.recipient, r.raw, r.attempts) for r in rows]
        sent = 0
        for row_id, recipient, raw, attempts in due:
            try:
                await self._transport(recipient, raw)
            except (aiosmtplib.SMTPException, MailboxError, OSError, TimeoutError) as exc:
                log.warning(
                    "email: could not send mail %d (attempt %d of %d%s): %s",
                    row_id,
                    attempts,
                    MAX_ATTEMPTS,
                    ", given up" if attempts >= MAX_ATTEMPTS else "",
                    type(exc).__name__,
                )
                first = self.settings.email_send_retry_seconds
                wait = min(first * 2 ** (attempts - 1), LEASE.total_seconds())
                async with self.db.session() as session, session.begin():
                    when = utcnow() + timedelta(seconds=wait)
                    await email_mail.retry_after(session, row_id, when, lease=LEASE)
                continue
            async with self.db.session() as session, session.begin():
                await email_mail.mark_sent(session, row_id, utcnow())
            sent += 1
        return sent

    async def _send(self, recipient: str, raw: str) -> None:
        settings = self.settings
        message = email.message_from_string(raw, policy=email.policy.SMTP)
        user = settings.email_login if settings.email_smtp_tls != "off" else None
        password = settings.email_password.reveal() if settings.email_password else None
        await aiosmtplib.send(
            message,
            sender=settings.email_address,
            recipients=[recipient],
            hostname=settings.email_smtp_host,
            port=settings.email_smtp_port,
            username=user,
            password=password if user else None,
            use_tls=settings.email_smtp_tls == "on",
            start_tls=settings.email_smtp_tls == "starttls",
            tls_context=self._tls_context,
            timeout=30,
        )
