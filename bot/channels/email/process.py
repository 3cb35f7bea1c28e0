"""What one mail to the desk does: raise a ticket, comment on one, close one, or nothing.

In one transaction: the mail is recorded by its key (so it is acted on once, whichever
replica reads it, however often), the ticket or comment is written, and the reply is
queued in ``email_outgoing``; only then is it sent, and only then marked ``\\Seen``.

* automatic mail (out-of-office, lists, bounces' senders, ourselves): nothing at all;
  a delivery report (RFC 3464) about one of our mails becomes an internal note on its ticket;
* a reply in a ticket's thread (``In-Reply-To``/``References`` naming our mail or theirs,
  or ``[REF]`` in the subject, or the ``[Ref: REF]`` marker of our mail quoted in its text)
  from the ticket's requester: a comment, or "solved" resolves it;
* anything else from a council's staff: a new ticket, and a reply with its reference and,
  when the knowledge base has a confident answer, that answer;
* from any other domain: one polite refusal per sender per day.

Email proves nothing about the sender, so it never resets access, never lists tickets,
and a ticket is only ever talked about in its own thread, with its requester's address.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.email import wording
from bot.channels.email.compose import compose
from bot.channels.email.mail import Mail
from bot.desk.actor import SYSTEM, Actor
from bot.desk.errors import DeskError
from bot.desk.tickets import Ticket
from bot.facts import DeskFacts
from bot.flows.answer import article_card
from bot.flows.ticket_text import summary_of
from bot.services import Services
from bot.storage import email_mail, email_retries
from bot.storage import staff as staff_repo

log = logging.getLogger(__name__)

#: the most replies one sender gets in an hour (a loop with a robot we didn't spot ends here)
REPLY_LIMIT = 10
#: files kept with a ticket: at most this big, of these types
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "text/plain",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/msword",
        "application/vnd.ms-excel",
    }
)
_SOLVED = re.compile(r"^\W*(solved|resolved|fixed|sorted)\b[\s\W]*(thanks?|thank you)?\W*$", re.I)


@dataclass(frozen=True)
class Result:
    """What a mail did: ``outcome`` and the ticket it concerned.

    Besides the outcomes stored (see :class:`~bot.storage.email_mail.EmailMessage`):
    ``seen`` (acted on before), ``waiting`` (failed; leave it unread until ``retry_at``),
    ``set-aside`` (failed too often: flag it, leave it unread), ``failed`` (not even the
    failure could be recorded: leave it unread).
    """

    outcome: str
    ticket_ref: str | None = None
    #: for a mail that failed and waits (``waiting``): when it may be tried again
    retry_at: datetime | None = None


class MailProcessor:
    """Acts on mail read from the desk's mailbox (see the module's docstring)."""

    def __init__(self, services: Services, clock: Callable[[], datetime]) -> None:
        self.services = services
        self.settings = services.settings
        self.clock = clock
        self.address = self.settings.email_address or ""
        prefix = re.escape(self.settings.ticket_prefix)
        self._ref = re.compile(rf"\[({prefix}-\d+)\]")
        self._marker = re.compile(rf"\[Ref:\s*({prefix}-\d+)\]", re.IGNORECASE)

    async def handle(self, raw: bytes, fallback_key: str) -> Result:
        """Act on one mail; ``fallback_key`` names it when it has no Message-ID.

        A mail whose acting fails (the database away, a bug on one odd mail) is not tried
        on every pass: the attempt is recorded and it waits (``waiting``, until
        ``retry_at``), then after the last attempt it is set aside (``set-aside``).
        """
        try:
            mail = Mail.parse(raw, own_address=self.address)
        except Exception as exc:  # mail no parser can read: recorded, so it is not read again
            log.warning("email: an unreadable mail (%s) is left alone", type(exc).__name__)
            mail = Mail("", "", "", "", "", automatic="unreadable")
        key = mail.message_id or fallback_key
        now = self.clock()
        try:
            async with self.services.db.session() as session, session.begin():
                # claimed first: a replica reading the same mail waits here, then finds it taken
                row = await email_retries.claim(session, key, sender=mail.sender, now=now)
                if row is None:
                    return await self._not_claimed(session, key)
                result = await self._decide(session, mail, key, now)
                row.outcome = result.outcome
                row.ticket_id = await self._ticket_id(session, result.ticket_ref)
        except Exception as exc:
            return await self._failed(mail, key, now, exc)
        log.info(
            "email outcome=%s ticket=%s automatic=%s",
            result.outcome,
            result.ticket_ref or "-",
            mail.automatic or "-",
        )
        return result

    @staticmethod
    async def _not_claimed(session: AsyncSession, key: str) -> Result:
        failed = await email_retries.failure(session, key)
        if failed is None:
            return Result("seen")
        if failed.retry_at is None:
            return Result("set-aside")
        return Result("waiting", retry_at=failed.retry_at)

    async def _failed(self, mail: Mail, key: str, now: datetime, error: Exception) -> Result:
        """Record a failed attempt (in its own transaction: the one that failed is gone)."""
        attempts = self.settings.email_retry_attempts
        try:
            async with self.services.db.session() as session, session.begin():
                failed = await email_retries.record_failure(
                    session,
                    key,
                    sender=mail.sender,
                    now=now,
                    first_wait=timedelta(seconds=self.settings.email_retry_seconds),
                    max_attempts=attempts,
                )
        except Exception as exc:
            log.warning(
                "email: a mail could not be acted on (%s), nor its failure recorded (%s); "
                "it is read again on the next pass",
                type(error).__name__,
                type(exc).__name__,
                exc_info=error,
            )
            return Result("failed")
        if failed.retry_at is None:
            log.error(
                "email: a mail (%s) could not be acted on in %d attempts (last: %s) and is "
                "set aside: flagged and left unread in the mailbox for a person",
                key,
                attempts,
                type(error).__name__,
            )
            return Result("set-aside")
        log.warning(
            "email: a mail (%s) could not be acted on (attempt %d of %d); tried again at %s",
            key,
            failed.attempts,
            attempts,
            failed.retry_at.isoformat(timespec="seconds"),
            exc_info=error,
        )
        return Result("waiting", retry_at=failed.retry_at)

    async def _ticket_id(self, session: AsyncSession, ref: str | None) -> int | None:
        ticket = await self.services.desk.get(session, ref) if ref else None
        return ticket.id if ticket is not None else None

    async def _decide(self, session: AsyncSession, mail: Mail, key: str, now: datetime) -> Result:
        if mail.bounced is not None:
            return await self._bounce(session, mail, now)
        if mail.automatic is not None:
            return Result("automatic")
        ticket = await self._thread_ticket(session, mail)
        if ticket is not None:
            return await self._in_thread(session, ticket, mail, key, now)
        council = self.settings.council_for_email(mail.sender)
        if council is None:
            return await self._refuse(session, mail, now)
        return await self._raise(session, mail, key, council.key, now)

    async def _thread_ticket(self, session: AsyncSession, mail: Mail) -> Ticket | None:
        """The ticket whose thread this mail is in, if its requester sent it: named by the
        headers (our Message-IDs, or theirs), else ``[REF]`` in the subject, else the
        ``[Ref: REF]`` marker our mails carry in their text (quoted by a mail client that
        rewrote the subject and dropped the headers)."""
        desk = self.services.desk
        ticket_id = await email_mail.ticket_for(session, mail.thread_ids)
        ticket = await desk.get_by_id(session, ticket_id)
        if self._owned(ticket, mail):
            return ticket
        for pattern, text in ((self._ref, mail.subject), (self._marker, mail.body)):
            if found := pattern.search(text):
                ticket = await desk.get(session, found.group(1).upper())
                if self._owned(ticket, mail):
                    return ticket
        return None  # someone else's ticket: never shown, never changed by this sender

    @staticmethod
    def _owned(ticket: Ticket | None, mail: Mail) -> bool:
        if ticket is None:
            return False
        if ticket.requester.email != mail.sender:
            log.info("email: a mail names %s but is not from its requester", ticket.ref)
            return False
        return True

    async def _in_thread(
        self, session: AsyncSession, ticket: Ticket, mail: Mail, key: str, now: datetime
    ) -> Result:
        ref = ticket.ref or ""
        actor = Actor.of(ticket.requester)
        text = mail.reply_text
        if _SOLVED.match(text):
            # resolved, as an agent's resolve: the rating is asked for and a reopen is
            # possible; the requester hears it from their notifier (in this thread)
            await self.services.desk.confirm_solved(session, ticket, actor, now=now)
            return Result("solved", ref)
        if text:
            await self.services.desk.comment(
                session, ticket, actor, text, now=now, via="email", external_key=f"email:{key}"
            )
        await self._keep_attachments(session, ticket, mail, key, now)
        return Result("comment", ref)

    async def _raise(
        self, session: AsyncSession, mail: Mail, key: str, council: str, now: datetime
    ) -> Result:
        staff = await staff_repo.get_or_create(
            session, email=mail.sender, council=council, display_name=mail.display_name
        )
        question = f"{mail.subject}\n{mail.reply_text}".strip()
        summary = summary_of(mail.subject or mail.reply_text) or "Email to the service desk"
        ticket = await self.services.desk.raise_ticket(
            session,
            requester=staff,
            summary=summary,
            category="other",
            priority="P3",
            now=now,
            description=mail.body,
            reply_channel="email",
            reply_thread=mail.message_id[:128],
            source="email",
        )
        await self._keep_attachments(session, ticket, mail, key, now)
        ref = ticket.ref or ""
        name = f" {mail.display_name.split()[0]}" if mail.display_name else ""
        text = wording.RECEIVED.format(name=name, ref=ref, summary=ticket.summary)
        text += await self._answer(question, council)
        text += wording.KEEP_SUBJECT.format(ref=ref)
        await self._reply(session, mail, ticket, text, now)
        return Result("ticket", ref)

    async def _answer(self, question: str, council: str) -> str:
        """The knowledge base's confident answer, as mail text; empty if it has none."""
        result = await self.services.knowledge.search(question[:2000], council)
        if result.decision != "answer" or not result.candidates:
            return ""
        facts = DeskFacts.of(self.settings, self.services.desk.policy.calendar)
        card = article_card(result.candidates[0].article, council, facts)
        title = card.title
        return wording.ANSWER.format(title=title, rule="=" * len(title), body=card.body_markdown)

    async def _refuse(self, session: AsyncSession, mail: Mail, now: datetime) -> Result:
        day_ago = now - timedelta(days=1)
        if await email_mail.sent_to(session, mail.sender, day_ago, "refusal") == 0:
            councils = " and ".join(c.name for c in self.settings.councils)
            await self._reply(
                session, mail, None, wording.REFUSED.format(councils=councils), now, "refusal"
            )
        return Result("refused")

    async def _bounce(self, session: AsyncSession, mail: Mail, now: datetime) -> Result:
        ticket_id = await email_mail.ticket_for(session, mail.bounced or ())
        ticket = await self.services.desk.get_by_id(session, ticket_id)
        if ticket is None:
            return Result("bounce")
        note = f"A mail about this ticket could not be delivered ({mail.subject or 'bounce'})."
        try:
            await self.services.desk.comment(
                session, ticket, SYSTEM, note, now=now, public=False, via="email"
            )
        except DeskError as exc:  # the note is a courtesy: the bounce is recorded anyway
            log.warning("email bounce note not added to %s: %s", ticket.ref, exc)
        return Result("bounce", ticket.ref)

    async def _keep_attachments(
        self, session: AsyncSession, ticket: Ticket, mail: Mail, key: str, now: datetime
    ) -> None:
        for part in mail.attachments:
            if part.content_type not in ATTACHMENT_TYPES:
                log.info("email attachment not kept: type %s", part.content_type)
                continue
            if len(part.data) > ATTACHMENT_MAX_BYTES:
                log.info("email attachment not kept: %d bytes", len(part.data))
                continue
            await email_mail.keep_attachment(
                session,
                ticket_id=ticket.id,
                message_key_=key,
                filename=part.filename,
                content_type=part.content_type,
                data=part.data,
                now=now,
            )

    async def _reply(
        self,
        session: AsyncSession,
        mail: Mail,
        ticket: Ticket | None,
        text: str,
        now: datetime,
        kind: str = "reply",
    ) -> None:
        """Queue a reply to ``mail``'s sender in its thread, unless they've had enough."""
        if await email_mail.sent_to(session, mail.sender, now - timedelta(hours=1)) >= REPLY_LIMIT:
            log.warning("email reply not sent: the sender's hourly limit is reached")
            return
        thread = await email_mail.thread_of(session, ticket.id) if ticket is not None else []
        references = [*mail.references, *thread, mail.message_id]
        message = compose(
            sender=self.address,
            desk=self.settings.desk_name,
            to=mail.sender,
            subject=mail.subject,
            text=text,
            ref=ticket.ref if ticket is not None else None,
            in_reply_to=mail.message_id or None,
            references=[m for m in references if m],
        )
        await email_mail.queue(
            session,
            message_id=str(message["Message-ID"]),
            recipient=mail.sender,
            kind=kind,
            raw=message.as_string(),
            ticket_id=ticket.id if ticket is not None else None,
            now=now,
        )
