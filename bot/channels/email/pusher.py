"""Ticket news by mail, in the thread the ticket was raised in: the email pusher of the
requester's notifier (``bot.conversation.notify``).

Only for tickets raised by email: the thread is the one place email may show a ticket.
Buttons have no place in a mail, so a question that needs one (the rating) is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.email import wording
from bot.channels.email.compose import compose
from bot.conversation.messages import Reply
from bot.desk.tickets import Ticket
from bot.settings import Settings
from bot.storage import email_mail
from bot.storage.models import Staff, utcnow

CHANNEL = "email"


class EmailPusher:
    """Queues the news as a mail in the ticket's thread; ``wake`` starts the sender."""

    def __init__(self, settings: Settings, wake: Callable[[], None]) -> None:
        self.settings = settings
        self.wake = wake

    async def __call__(
        self,
        session: AsyncSession,
        staff: Staff,
        ticket: Ticket | None,
        replies: Sequence[Reply],
        *,
        key: str,
        retry: bool,
    ) -> bool:
        if ticket is None or ticket.reply_channel != CHANNEL:
            return False
        told = [reply.text for reply in replies if reply.kind != "question"]
        if not told:
            return True  # a rating to press buttons for: nothing to say by mail
        thread = await email_mail.thread_of(session, ticket.id)
        message = compose(
            sender=self.settings.email_address or "",
            desk=self.settings.desk_name,
            to=ticket.requester.email,
            subject=ticket.summary,
            text="\n\n".join(told) + wording.UPDATE_INVITE,
            ref=ticket.ref,
            in_reply_to=thread[-1] if thread else None,
            references=thread,
        )
        await email_mail.queue(
            session,
            message_id=str(message["Message-ID"]),
            recipient=ticket.requester.email,
            kind="update",
            raw=message.as_string(),
            ticket_id=ticket.id,
            now=utcnow(),
            source_key=key[:64],
        )
        # the sender looks once the row is there: after this transaction commits (woken
        # before, it would find nothing and wait for its next round)
        event.listen(session.sync_session, "after_commit", self._woken, once=True)
        return True

    def _woken(self, _session: object) -> None:
        self.wake()
