"""Telling requesters what happened to their tickets, wherever they are now.

The requester's notifier subscribes to the desk's events (``bot.desk.events``) under the
destination ``requester`` and turns each into chat replies here, on the conversation
side: the desk only announces. It also tells a person whose request waited for an
agent's approval (an MFA reset) that it was denied or expired; an approved change is
told by whatever carries it out.

Where: a channel that can push (Slack: a DM) registers a pusher. The pusher of the
channel the person last used goes first, then any other that can reach them (a DM when
their Slack is linked), wherever the ticket was raised. If none can, the replies are kept
and shown once: at the person's next turn on any channel where only they see the replies
(:attr:`Incoming.personal`), or when the web chat page polls for them. A pushed update is
never kept, and a kept one is taken once (see :func:`take_pending`), so nothing is told
twice on two channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.conversation.actions import ChooseIntent, FlowCommand, decode_action, encode_action
from bot.conversation.messages import Button, Reply
from bot.conversation.text import clip
from bot.desk.approvals import DENIED, EXPIRED, Approval
from bot.desk.calendar import WorkingCalendar
from bot.desk.events import (
    APPROVAL_DECIDED,
    COMMENT_ADDED,
    CSAT_REQUESTED,
    NOTICE_RESOLVED,
    STATUS_CHANGED,
    TICKET_ASSIGNED,
    Events,
)
from bot.desk.hours import calendar_for
from bot.desk.outage_tables import ServiceNotice
from bot.desk.outbox import Handler, Skip
from bot.desk.tickets import OutboxMessage, Ticket, TicketComment
from bot.settings import Settings
from bot.storage import conversations as conversation_repo
from bot.storage import notifications
from bot.storage.models import Staff

DESTINATION = "requester"


#: what the requester hears about
KINDS = (COMMENT_ADDED, TICKET_ASSIGNED, STATUS_CHANGED, CSAT_REQUESTED)


def subscribe(events: Events) -> None:
    """What the requester hears about: agents' public replies, owner, status, rating."""
    events.subscribe(
        DESTINATION,
        COMMENT_ADDED,
        when=lambda p: p.get("role") in ("agent", "remote") and bool(p.get("public")),
    )
    events.subscribe(DESTINATION, *(kind for kind in KINDS if kind != COMMENT_ADDED))
    events.subscribe(
        DESTINATION, APPROVAL_DECIDED, when=lambda p: p.get("outcome") in (DENIED, EXPIRED)
    )
    events.subscribe(DESTINATION, NOTICE_RESOLVED)  # those who added themselves to a notice


def csat_buttons(ref: str) -> tuple[Button, ...]:
    """Rate 1 to 5: pressed, the status flow records the rating for ``ref``."""
    return tuple(
        Button(str(n), FlowCommand("ticket_status", "csat", f"{ref}:{n}")) for n in range(1, 6)
    )


class Pusher(Protocol):
    """Sends replies to the requester now; ``False`` if it can't reach them (they're kept
    instead). ``ticket`` is what the news is about (``None``: an approval with no ticket).
    ``key`` names this delivery; with ``retry`` an earlier attempt may have sent it before
    failing, so a pusher that can look should not send it twice."""

    async def __call__(
        self,
        session: AsyncSession,
        staff: Staff,
        ticket: Ticket | None,
        replies: Sequence[Reply],
        *,
        key: str,
        retry: bool,
    ) -> bool: ...


def replies_for(
    ticket: Ticket, message: OutboxMessage, comment: TicketComment | None
) -> list[Reply]:
    """What the requester is told for one event (``comment`` for ``comment_added``)."""
    payload = message.payload
    ref, summary = ticket.ref or "", clip(ticket.summary, 60)
    if message.kind == CSAT_REQUESTED:
        return [Reply(wording.CSAT_ASK.format(ref=ref), buttons=csat_buttons(ref), kind="question")]
    view = (Button("See the ticket", ChooseIntent("ticket_status")),)
    if message.kind == COMMENT_ADDED and comment is not None:
        text = wording.NOTIFY_COMMENT.format(
            ref=ref, summary=summary, author=comment.author_name, body=comment.body
        )
        return [Reply(text, buttons=view)]
    if message.kind == TICKET_ASSIGNED and ticket.assignee is not None:
        name = ticket.assignee.display_name
        return [Reply(wording.NOTIFY_ASSIGNED.format(ref=ref, summary=summary, assignee=name))]
    if message.kind == STATUS_CHANGED:
        template = wording.NOTIFY_STATUS.get(str(payload.get("status")))
        if template:
            return [Reply(template.format(ref=ref, summary=summary), buttons=view)]
    return []


def reply_to_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "kind": reply.kind,
        "buttons": [
            {"label": b.label, "action": encode_action(b.action), "style": b.style}
            for b in reply.buttons
        ],
    }


def reply_from_json(data: dict[str, Any]) -> Reply:
    return Reply(
        text=str(data.get("text", "")),
        kind=data.get("kind", "info"),
        buttons=tuple(
            Button(str(b["label"]), action, b.get("style", "default"))
            for b in data.get("buttons", [])
            # "value": kept apart from the action in notifications stored before actions were typed
            if (action := decode_action(str(b["action"]), str(b.get("value") or ""))) is not None
        ),
    )


class Notifier:
    """The ``requester`` destination's outbox handler, with the channels' pushers.

    ``settings`` give the desk's name and contact for the words of an approval's outcome.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings
        self.pushers: dict[str, Pusher] = {}

    def register_pusher(self, channel: str, pusher: Pusher) -> None:
        self.pushers[channel] = pusher

    def handlers(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = dict.fromkeys(KINDS, self.deliver)
        handlers[APPROVAL_DECIDED] = self.approval_decided
        handlers[NOTICE_RESOLVED] = self.notice_resolved
        return handlers

    async def deliver(self, session: AsyncSession, message: OutboxMessage) -> None:
        ticket = await session.get(Ticket, message.ticket_id) if message.ticket_id else None
        if ticket is None:
            raise Skip("the ticket no longer exists")
        comment_id = message.payload.get("comment")
        comment = await session.get(TicketComment, comment_id) if comment_id else None
        replies = replies_for(ticket, message, comment)
        if not replies:
            raise Skip(f"nothing to tell the requester for {message.kind} {message.payload}")
        await self.tell(
            session,
            message,
            ticket.requester,
            ticket,
            replies,
            channel=ticket.reply_channel,
            thread=ticket.reply_thread,
        )

    async def approval_decided(self, session: AsyncSession, message: OutboxMessage) -> None:
        """``approval_decided`` (denied or expired): what happened and what to do next."""
        approval_id = message.payload.get("approval_id")
        approval = (
            await session.get(Approval, approval_id) if isinstance(approval_id, int) else None
        )
        if approval is None:
            raise Skip("the approval request no longer exists")
        outcome = str(message.payload.get("outcome") or "")
        template = {DENIED: wording.APPROVAL_DENIED, EXPIRED: wording.APPROVAL_EXPIRED}.get(outcome)
        if template is None:
            raise Skip(f"nothing to tell the requester for an approval {outcome or 'decision'}")
        council = None
        if self.settings is not None:
            try:
                council = self.settings.council(approval.council)
            except KeyError:
                council = None
        text = template.format(
            desk=self.settings.desk_name if self.settings is not None else "service desk",
            action=wording.action(approval.kind),
            contact=wording.contact(self.settings, council)
            if self.settings is not None
            else "your usual IT contacts",
            hours=wording.hours(
                calendar_for(self.settings) if self.settings is not None else WorkingCalendar()
            ),
        )
        ticket = await session.get(Ticket, approval.ticket_id) if approval.ticket_id else None
        await self.tell(
            session,
            message,
            approval.requester,
            ticket,
            [Reply(text)],
            channel=approval.channel,
            thread=approval.thread,
        )

    async def notice_resolved(self, session: AsyncSession, message: OutboxMessage) -> None:
        """``notice_resolved``: someone who added themselves to a notice hears it is fixed,
        where they joined it (or wherever they are now)."""
        notice_id, staff_id = message.payload.get("notice_id"), message.payload.get("staff_id")
        notice = await session.get(ServiceNotice, notice_id) if isinstance(notice_id, int) else None
        staff = await session.get(Staff, staff_id) if isinstance(staff_id, int) else None
        if notice is None or staff is None:
            raise Skip("the notice or the person no longer exists")
        template = wording.NOTICE_FIXED.get(str(message.payload.get("status")))
        if template is None:
            raise Skip("nothing to tell for this notice")
        channel = str(message.payload.get("channel") or "web")
        thread = str(message.payload.get("thread") or "")
        await self.tell(
            session,
            message,
            staff,
            None,
            [Reply(template.format(text=notice.text))],
            channel=channel,
            thread=thread,
        )

    async def tell(
        self,
        session: AsyncSession,
        message: OutboxMessage,
        staff: Staff,
        ticket: Ticket | None,
        replies: Sequence[Reply],
        *,
        channel: str,
        thread: str,
    ) -> None:
        """Push the replies where the person is now if a channel can; else keep them.

        ``channel`` and ``thread`` are where the news began (the ticket's conversation);
        the person's last channel comes first.
        """
        last = await conversation_repo.last_channel(session, staff.id) or channel
        order = [last, *(name for name in self.pushers if name != last)]
        for name in order:
            pusher = self.pushers.get(name)
            if pusher is not None and await pusher(
                session,
                staff,
                ticket,
                replies,
                key=f"outbox:{message.id}",
                retry=message.attempts > 0,
            ):
                return
        for index, reply in enumerate(replies):
            await notifications.keep(
                session,
                staff_id=staff.id,
                channel=last,
                thread=thread if last == channel else "",
                reply=reply_to_json(reply),
                source_key=f"outbox:{message.id}:{index}",
            )


async def take_pending(session: AsyncSession, staff_id: int, now: datetime) -> list[Reply]:
    """Undelivered notifications for this person, kept on any channel, marked delivered
    (each is taken once: by this turn, or by another channel's, never both)."""
    kept = await notifications.take_pending(session, staff_id, now)
    return [reply_from_json(data) for data in kept]
