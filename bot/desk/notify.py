"""Telling requesters what happened to their tickets, on whichever channel they used.

The outbox calls :meth:`Notifier.deliver` for ``notify_requester`` and ``ask_csat``
rows. A channel that can push (Slack: a DM) registers a pusher; for the others (web
chat, terminal) the message is stored and shown at the person's next turn, and the
web chat page polls for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.conversation.actions import ChooseIntent, decode_action, encode_action
from bot.conversation.messages import Button, Reply
from bot.desk.models import Notification, OutboxMessage, Ticket, TicketComment
from bot.desk.outbox import Skip
from bot.flows.status import csat_buttons
from bot.storage.models import Staff


class Pusher(Protocol):
    """Sends replies to the requester now; ``False`` if it can't reach them (they're kept
    instead). ``key`` names this delivery; with ``retry`` an earlier attempt may have sent
    it before failing, so a pusher that can look should not send it twice."""

    async def __call__(
        self,
        session: AsyncSession,
        staff: Staff,
        ticket: Ticket,
        replies: Sequence[Reply],
        *,
        key: str,
        retry: bool,
    ) -> bool: ...


def replies_for(
    ticket: Ticket, message: OutboxMessage, comment: TicketComment | None
) -> list[Reply]:
    """What the requester is told for one outbox row (``None`` comment unless one is named)."""
    payload = message.payload
    ref, summary = ticket.ref or "", ticket.summary[:60]
    if message.kind == "ask_csat":
        return [Reply(wording.CSAT_ASK.format(ref=ref), buttons=csat_buttons(ref), kind="question")]
    event = payload.get("event")
    view = (Button("See the ticket", ChooseIntent("ticket_status")),)
    if event == "comment" and comment is not None:
        text = wording.NOTIFY_COMMENT.format(
            ref=ref, summary=summary, author=comment.author_name, body=comment.body
        )
        return [Reply(text, buttons=view)]
    if event == "assigned" and ticket.assignee is not None:
        name = ticket.assignee.display_name
        return [Reply(wording.NOTIFY_ASSIGNED.format(ref=ref, summary=summary, assignee=name))]
    if event == "status":
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
    def __init__(self) -> None:
        self.pushers: dict[str, Pusher] = {}

    def register_pusher(self, channel: str, pusher: Pusher) -> None:
        self.pushers[channel] = pusher

    async def deliver(self, session: AsyncSession, message: OutboxMessage) -> None:
        ticket = await session.get(Ticket, message.ticket_id) if message.ticket_id else None
        if ticket is None:
            raise Skip("the ticket no longer exists")
        comment_id = message.payload.get("comment")
        comment = await session.get(TicketComment, comment_id) if comment_id else None
        replies = replies_for(ticket, message, comment)
        if not replies:
            raise Skip(f"nothing to tell the requester for {message.payload}")
        pusher = self.pushers.get(ticket.reply_channel)
        if pusher is not None and await pusher(
            session,
            ticket.requester,
            ticket,
            replies,
            key=f"outbox:{message.id}",
            retry=message.attempts > 0,
        ):
            return
        for index, reply in enumerate(replies):
            key = f"outbox:{message.id}:{index}"
            seen = await session.execute(
                select(Notification.id).where(Notification.source_key == key)
            )
            if seen.first() is None:
                session.add(
                    Notification(
                        staff_id=ticket.requester_id,
                        channel=ticket.reply_channel,
                        thread=ticket.reply_thread,
                        reply=reply_to_json(reply),
                        source_key=key,
                    )
                )


async def take_pending(
    session: AsyncSession, staff_id: int, channel: str, now: datetime
) -> list[Reply]:
    """Undelivered notifications for this person on this channel, marked delivered."""
    query = (
        select(Notification)
        .where(
            Notification.staff_id == staff_id,
            Notification.channel == channel,
            Notification.delivered_at.is_(None),
        )
        .order_by(Notification.id)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(query)).scalars().all())
    if rows:
        await session.execute(
            update(Notification)
            .where(Notification.id.in_([r.id for r in rows]))
            .values(delivered_at=now)
        )
    return [reply_from_json(r.reply) for r in rows]
