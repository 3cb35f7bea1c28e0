"""Reading the desk's mailbox: connect, act on unseen mail, mark it seen, wait, again.

A mail is marked ``\\Seen`` only after the transaction that acted on it commits; if the
process stops in between, the mail is read again and recognised by its key (see
:mod:`bot.channels.email.process`). A mail that could not be acted on stays unseen and is
tried again when its wait is over; one set aside is flagged and left unseen, for a person
(flagged mail is never read). A connection that fails is retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from bot.channels.email.imap import Mailbox, MailboxError
from bot.channels.email.process import MailProcessor
from bot.settings import Settings

log = logging.getLogger(__name__)


class Reader:
    """Runs the mailbox loop; ``on_mail`` is called after mail was acted on (wake the sender)."""

    def __init__(
        self,
        settings: Settings,
        processor: MailProcessor,
        on_mail: Callable[[], None],
        open_mailbox: Callable[[], Mailbox] | None = None,
    ) -> None:
        self.settings = settings
        self.processor = processor
        self.on_mail = on_mail
        self.open_mailbox = open_mailbox or (lambda: mailbox_for(settings))

    async def run(self, stop: asyncio.Event) -> None:
        halt = threading.Event()  # the worker thread's view of ``stop``
        watcher = asyncio.create_task(_mirror(stop, halt))
        delay = 1.0
        try:
            while not stop.is_set():
                mailbox = self.open_mailbox()
                try:
                    await asyncio.to_thread(mailbox.open)
                    log.info("email: reading %s:%d", mailbox.host, mailbox.port)
                    delay = 1.0
                    await self._serve(mailbox, stop, halt)
                except MailboxError as exc:
                    log.warning("email: %s; trying again in %.0f s", exc, delay)
                except Exception:
                    log.exception("email: reading the mailbox failed")
                finally:
                    await asyncio.to_thread(mailbox.close)
                if not stop.is_set():
                    await asyncio.to_thread(halt.wait, delay)
                    delay = min(delay * 2, 300.0)
        finally:
            watcher.cancel()

    async def _serve(self, mailbox: Mailbox, stop: asyncio.Event, halt: threading.Event) -> None:
        every = float(self.settings.email_poll_seconds)
        while not stop.is_set():
            fetched = await asyncio.to_thread(mailbox.unseen)
            moved = False  # whether a mail left the unread, unflagged set
            due: datetime | None = None  # the soonest a waiting mail may be tried again
            for mail in fetched:
                if stop.is_set():
                    return
                try:
                    result = await self.processor.handle(
                        mail.raw, f"uid:{mailbox.uidvalidity}:{mail.uid}"
                    )
                except Exception:  # left unseen: tried again on a later pass
                    log.exception("email: a mail (uid %s) could not be acted on", mail.uid)
                    continue
                if result.outcome in ("waiting", "failed"):
                    if result.retry_at is not None and (due is None or result.retry_at < due):
                        due = result.retry_at
                    continue
                if result.outcome == "set-aside":
                    await asyncio.to_thread(mailbox.set_aside, mail.uid)
                else:
                    await asyncio.to_thread(mailbox.mark_seen, mail.uid)
                    self.on_mail()
                moved = True
            if not moved:
                wait = every
                if due is not None:
                    soon = (due - self.processor.clock()).total_seconds()
                    wait = min(every, max(soon, 0.05))
                await asyncio.to_thread(mailbox.wait, wait, halt)


def mailbox_for(settings: Settings) -> Mailbox:
    return Mailbox(
        host=settings.email_imap_host or "",
        port=settings.email_imap_port,
        tls=settings.email_imap_tls,
        user=settings.email_login,
        password=settings.email_password.reveal() if settings.email_password else "",
    )


async def _mirror(stop: asyncio.Event, halt: threading.Event) -> None:
    await stop.wait()
    halt.set()
