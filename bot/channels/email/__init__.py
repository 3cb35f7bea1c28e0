"""The email channel: the desk's mailbox as a way in, the only code that knows mail.

``register(app)`` runs it in ``itbot serve`` when ``ITBOT_EMAIL_ADDRESS`` is set: a
:class:`~bot.channels.email.reader.Reader` task reads the mailbox over IMAP (IDLE where
offered, else every ``ITBOT_EMAIL_POLL_SECONDS``; with ``ITBOT_EMAIL_PROVIDER=graph`` a
:class:`~bot.channels.email.graph.GraphReader` reads it through Microsoft Graph), a
:class:`~bot.channels.email.smtp.Sender` task sends what the channel queued, and the
requester's notifier gets an email pusher so agents' replies reach the requester in the
ticket's thread. Both tasks stop on shutdown (the graceful one first).

How a mail travels::

    IMAP unseen ─→ Mail.parse ─→ MailProcessor (one transaction: record the key, ticket or
    comment, queue the reply) ─→ \\Seen ─→ Sender: SMTP ─→ sent_at
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.email.graph import GraphMail, GraphReader
from bot.channels.email.process import MailProcessor
from bot.channels.email.pusher import CHANNEL, EmailPusher
from bot.channels.email.reader import Reader
from bot.channels.email.smtp import Sender
from bot.storage.models import utcnow

#: how long a shutdown waits for the mail being acted on before cancelling
GRACE_SECONDS = 10.0


def register(app: web.Application) -> None:
    """Run the email channel with the app; call after the services' ``cleanup_ctx``."""
    from bot.web import keys

    async def email_ctx(app: web.Application) -> AsyncIterator[None]:
        services = app[keys.SERVICES]
        settings = services.settings
        processor = MailProcessor(services, utcnow)
        stack = contextlib.AsyncExitStack()
        reader: Reader | GraphReader
        if settings.email_provider == "graph":
            graph = await stack.enter_async_context(GraphMail(settings))
            sender = Sender(settings, services.db, graph.send)
            reader = GraphReader(graph, processor, sender.wake)
        else:
            sender = Sender(settings, services.db)
            reader = Reader(settings, processor, sender.wake)
        services.notifier.register_pusher(CHANNEL, EmailPusher(settings, sender.wake))
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(reader.run(stop), name="email-reader"),
            asyncio.create_task(sender.run(stop), name="email-sender"),
        ]

        async def stop_email() -> None:
            if stop.is_set():
                return
            stop.set()
            _, late = await asyncio.wait(tasks, timeout=GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        app[keys.STOPPING].append(stop_email)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await stop_email()
            services.notifier.pushers.pop(CHANNEL, None)
            await stack.aclose()

    app.cleanup_ctx.append(email_ctx)


__all__ = ["CHANNEL", "register"]
