"""Erasure: remove one person's data, keeping the desk's record of their tickets.

What goes: their conversations and turns, the messages kept for them, their web chat
sessions, one-time codes and resets, their dashboard account and sign-in attempts, and
every text they wrote on a ticket (the description, impact, transcript and rating comment
of tickets they raised; the body of each of their comments, which reads
:data:`bot.wording.ERASED_TEXT`).

What stays, and why: the **tickets** they raised, for the desk's record and the councils'
figures (summary, category, priority, status, clocks, history). The ticket's requester is
their staff record, made an erased placeholder: address ``erased-<id>@erased.invalid``
(no council address, so nobody can sign in as it), name :data:`bot.wording.ERASED_NAME`,
no Slack id, no agent rights; the council is kept so per-council figures stay right. A
summary is kept as the desk wrote it. Approvals they asked for keep their outcome; the
subject (which names them) is replaced, and one still waiting is expired. The **audit
log** is append-only: entries about them stay (the law asks us to keep who changed which
account), and the erasure itself is appended, naming only the staff record's id and what
was removed, never the address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.access.tables import AccessReset, OneTimeCode
from bot.desk.accounts import DeskAccount, DeskLoginAttempt
from bot.desk.approvals import EXPIRED, PENDING, Approval
from bot.desk.outage_tables import NoticeMember
from bot.desk.tickets import OutboxMessage, Ticket, TicketComment, TicketEvent
from bot.storage import audit
from bot.storage.models import Conversation, Staff, Turn
from bot.storage.notifications import Notification
from bot.storage.teams_conversations import TeamsConversation
from bot.storage.web_sessions import WebSession

#: the domain of an erased record's address: reserved, so it can never be a council's
ERASED_DOMAIN = "erased.invalid"
#: the audit log's action for an erasure
ERASED_ACTION = "privacy_erased"


def placeholder_email(staff_id: int) -> str:
    """The address an erased staff record is given.

    >>> placeholder_email(12)
    'erased-12@erased.invalid'
    """
    return f"erased-{staff_id}@{ERASED_DOMAIN}"


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def erase(
    session: AsyncSession, person: Staff, *, actor: str, now: datetime
) -> dict[str, int]:
    """Erase ``person`` (see the module's docstring); how many rows of each kind changed.

    The caller commits: the erasure and its audit entry are one unit of work.
    """
    address = person.email
    counts: dict[str, int] = {}
    conversations = select(Conversation.id).where(Conversation.staff_id == person.id)
    counts["turns"] = _count(
        await session.execute(delete(Turn).where(Turn.conversation_id.in_(conversations)))
    )
    counts["conversations"] = _count(
        await session.execute(delete(Conversation).where(Conversation.staff_id == person.id))
    )
    counts["notifications"] = _count(
        await session.execute(delete(Notification).where(Notification.staff_id == person.id))
    )
    counts["web_sessions"] = _count(
        await session.execute(delete(WebSession).where(WebSession.email == address))
    )
    counts["access_codes"] = _count(
        await session.execute(
            delete(OneTimeCode).where(
                or_(OneTimeCode.subject == address, OneTimeCode.requester_id == person.id)
            )
        )
    )
    counts["resets"] = _count(
        await session.execute(delete(AccessReset).where(AccessReset.subject == address))
    )
    counts["desk_account"] = _count(
        await session.execute(delete(DeskAccount).where(DeskAccount.email == address))
    )
    await session.execute(delete(DeskLoginAttempt).where(DeskLoginAttempt.email == address))
    counts["notice_members"] = _count(
        await session.execute(delete(NoticeMember).where(NoticeMember.staff_id == person.id))
    )
    raised = select(Ticket.id).where(Ticket.requester_id == person.id)
    counts["ticket_comments"] = _count(
        await session.execute(
            update(TicketComment)
            .where(
                or_(
                    TicketComment.author_id == person.id,
                    TicketComment.ticket_id.in_(raised)
                    & (TicketComment.author_role == "requester"),
                )
            )
            .values(body=wording.ERASED_TEXT, author_name=wording.ERASED_NAME)
        )
    )
    counts["tickets_anonymised"] = _count(
        await session.execute(
            update(Ticket)
            .where(Ticket.requester_id == person.id)
            .values(description="", impact="", transcript=[], csat_comment=None, reply_thread="")
        )
    )
    new_address = placeholder_email(person.id)
    await session.execute(
        update(TicketEvent).where(TicketEvent.actor == address).values(actor=new_address)
    )
    # an assignment's event and news name the agent: the placeholder stands in
    pattern = "%" + address.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    for table, column in (
        (TicketEvent, TicketEvent.details),
        (OutboxMessage, OutboxMessage.payload),
    ):
        rows = await session.execute(
            select(table.id, column).where(cast(column, Text).like(pattern, escape="\\"))
        )
        for row_id, values in rows.all():
            changed = {k: new_address if v == address else v for k, v in (values or {}).items()}
            await session.execute(
                update(table).where(table.id == row_id).values({column.key: changed})
            )
    counts["approvals"] = _count(
        await session.execute(
            update(Approval)
            .where(Approval.requester_id == person.id)
            .values(subject=wording.ERASED_NAME, details={})
        )
    )
    await session.execute(
        update(Approval)
        .where(Approval.requester_id == person.id, Approval.status == PENDING)
        .values(status=EXPIRED, decided_at=now)
    )
    person.email = new_address
    person.display_name = wording.ERASED_NAME
    person.slack_user_id = None
    # the Teams user and Entra object ids, and where their personal chat is
    await session.execute(delete(TeamsConversation).where(TeamsConversation.staff_id == person.id))
    person.is_agent = False
    person.agent_via = None
    person.is_privileged = False
    person.updated_at = now
    await audit.record(
        session,
        actor=actor,
        action=ERASED_ACTION,
        subject=f"staff record {person.id}",
        **{kind: n for kind, n in counts.items() if n},
    )
    return counts
