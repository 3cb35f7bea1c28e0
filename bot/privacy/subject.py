"""Subject access: everything held about one person, as one JSON-ready dict.

What it holds: their staff record; their conversations (state included) and every turn
(what they typed, what the bot answered, their ratings); the tickets they raised with the
ticket's facts, their own comments in full and only the facts of anyone else's (when, who
in which role, public or not: never another person's words or name), the ticket's history
as kinds and times (news relayed to them quotes others' replies: those words and names are
replaced wherever they appear), and their satisfaction rating; comments they wrote on other tickets;
their resets, approvals, one-time codes (where sent, masked; never the hash), web chat
sessions (never the token's hash), messages kept for them, their dashboard account (never
the password hash); the audit entries about them (they acted, or they are the subject);
the service notices they were added to; and the text-free activity rows the per-council
report counts (what kind, when, which article or ticket, their rating).

>>> async with db.session() as s:                                   # doctest: +SKIP
...     held = await export(s, "sam.taylor@dacorum.gov.uk")
>>> sorted(held)                                                     # doctest: +SKIP
['access_codes', 'approvals', 'audit', 'comments_elsewhere', 'conversations', ...]
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.access.tables import AccessReset, OneTimeCode
from bot.desk.accounts import DeskAccount
from bot.desk.activity import Activity
from bot.desk.approvals import Approval
from bot.desk.outage_tables import NoticeMember, ServiceNotice
from bot.desk.tickets import Ticket, TicketComment, TicketEvent
from bot.storage import staff as staff_repo
from bot.storage import teams_conversations
from bot.storage.models import AuditEntry, Conversation, Staff, Turn
from bot.storage.notifications import Notification
from bot.storage.web_sessions import WebSession

#: someone else's comment shorter than this is not looked for in quotes ("ok", "done")
MIN_QUOTED = 4


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def export(session: AsyncSession, email: str) -> dict[str, Any] | None:
    """Everything held about the person with this address; ``None`` if nobody has it."""
    person = await staff_repo.get_by_email(session, email)
    if person is None:
        return None
    address = person.email
    tickets = await _tickets(session, person)
    held: dict[str, Any] = {
        "exported_for": address,
        "staff": {
            "email": address,
            "display_name": person.display_name,
            "council": person.council,
            "slack_user_id": person.slack_user_id,
            "teams": await teams_conversations.export(session, person.id),
            "is_agent": person.is_agent,
            "is_privileged": person.is_privileged,
            "created_at": _at(person.created_at),
            "updated_at": _at(person.updated_at),
        },
        "conversations": await _conversations(session, person),
        "tickets": tickets,
        "comments_elsewhere": await _comments_elsewhere(session, person),
        "resets": await _resets(session, address),
        "approvals": await _approvals(session, person),
        "access_codes": await _codes(session, person),
        "web_sessions": await _web_sessions(session, address),
        "notifications": await _notifications(session, person),
        "desk_account": await _desk_account(session, address),
        "audit": await _audit(session, address),
        "activity": await _activity(session, person),
        "service_notices": await _notices(session, person),
    }
    # news relayed to them (a turn's reply, a kept message) quotes agents' replies and
    # names: those are the agents', so they are left out wherever they are quoted
    others = await _others_words(session, person)
    return {key: without(value, others) for key, value in held.items()}


def without(value: Any, quoted: dict[str, str]) -> Any:
    """``value`` (JSON-like) with each key of ``quoted`` replaced by its value wherever a
    string holds it (the longest first).

    >>> without({"a": ["Pat: try a reboot", 3]}, {"try a reboot": "[x]", "Pat": "[y]"})
    {'a': ['[y]: [x]', 3]}
    """
    if isinstance(value, str):
        for text in sorted(quoted, key=len, reverse=True):
            value = value.replace(text, quoted[text])
        return value
    if isinstance(value, dict):
        return {k: without(v, quoted) for k, v in value.items()}
    if isinstance(value, list):
        return [without(v, quoted) for v in value]
    return value


async def _others_words(session: AsyncSession, person: Staff) -> dict[str, str]:
    """What others wrote on the tickets this person raised, and their names (each long
    enough to recognise), with what stands in their place."""
    rows = (
        await session.execute(
            select(TicketComment, Ticket.requester_id)
            .join(Ticket, Ticket.id == TicketComment.ticket_id)
            .where(Ticket.requester_id == person.id)
        )
    ).all()
    quoted: dict[str, str] = {}
    for comment, requester_id in rows:
        if _is_theirs(comment, person, requester_id):
            continue
        body, name = comment.body.strip(), comment.author_name.strip()
        if len(body) >= MIN_QUOTED:
            quoted[body] = wording.OTHERS_WORDS
        if len(name) >= MIN_QUOTED and name != person.display_name:
            quoted.setdefault(name, wording.OTHERS_NAME)
    return quoted


async def _conversations(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    conversations = (
        (
            await session.execute(
                select(Conversation)
                .where(Conversation.staff_id == person.id)
                .order_by(Conversation.id)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    out: list[dict[str, Any]] = []
    for conversation in conversations:
        turns = (
            await session.execute(
                select(Turn).where(Turn.conversation_id == conversation.id).order_by(Turn.id)
            )
        ).scalars()
        out.append(
            {
                "channel": conversation.channel,
                "thread": conversation.thread,
                "flow": conversation.flow,
                "step": conversation.step,
                "state": conversation.data,
                "created_at": _at(conversation.created_at),
                "updated_at": _at(conversation.updated_at),
                "turns": [
                    {
                        "at": _at(turn.created_at),
                        "you_said": turn.user_text,
                        "you_pressed": turn.action,
                        "intent": turn.intent,
                        "flow": turn.flow,
                        "outcome": turn.outcome,
                        "bot_replied": turn.reply_text,
                        "details": turn.details,
                    }
                    for turn in turns
                ],
            }
        )
    return out


def _comment(comment: TicketComment, person: Staff, *, theirs: bool) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "at": _at(comment.created_at),
        "by": "you" if theirs else comment.author_role,
        "public": comment.public,
        "via": comment.via,
    }
    if theirs:
        fact["text"] = comment.body
    return fact


def _is_theirs(comment: TicketComment, person: Staff, requester_id: int) -> bool:
    if comment.author_id is not None:
        return comment.author_id == person.id
    return comment.author_role == "requester" and requester_id == person.id


async def _tickets(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    tickets = (
        (
            await session.execute(
                select(Ticket).where(Ticket.requester_id == person.id).order_by(Ticket.id)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    out: list[dict[str, Any]] = []
    for ticket in tickets:
        comments = (
            await session.execute(
                select(TicketComment)
                .where(TicketComment.ticket_id == ticket.id)
                .order_by(TicketComment.created_at, TicketComment.id)
            )
        ).scalars()
        events = (
            await session.execute(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.created_at, TicketEvent.id)
            )
        ).scalars()
        out.append(
            {
                "ref": ticket.ref,
                "council": ticket.council,
                "category": ticket.category,
                "priority": ticket.priority,
                "status": ticket.status,
                "summary": ticket.summary,
                "description": ticket.description,
                "impact": ticket.impact,
                "source": ticket.source,
                "transcript": ticket.transcript,
                "created_at": _at(ticket.created_at),
                "first_response_at": _at(ticket.first_response_at),
                "resolved_at": _at(ticket.resolved_at),
                "closed_at": _at(ticket.closed_at),
                "csat_score": ticket.csat_score,
                "csat_comment": ticket.csat_comment,
                "comments": [
                    _comment(c, person, theirs=_is_theirs(c, person, ticket.requester_id))
                    for c in comments
                ],
                "history": [
                    {
                        "at": _at(e.created_at),
                        "kind": e.kind,
                        "by": "you" if e.actor == person.email else "desk",
                    }
                    for e in events
                ],
            }
        )
    return out


async def _comments_elsewhere(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    """Comments they wrote on tickets someone else raised (an agent's replies)."""
    rows = (
        await session.execute(
            select(TicketComment, Ticket.ref)
            .join(Ticket, Ticket.id == TicketComment.ticket_id)
            .where(TicketComment.author_id == person.id, Ticket.requester_id != person.id)
            .order_by(TicketComment.id)
        )
    ).all()
    return [{"ticket": ref, **_comment(comment, person, theirs=True)} for comment, ref in rows]


async def _resets(session: AsyncSession, address: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(AccessReset).where(AccessReset.subject == address).order_by(AccessReset.id)
        )
    ).scalars()
    return [
        {
            "operation": r.operation,
            "channel": r.channel,
            "directory": r.directory,
            "done_at": _at(r.done_at),
        }
        for r in rows
    ]


async def _approvals(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    rows = (
        (
            await session.execute(
                select(Approval).where(Approval.requester_id == person.id).order_by(Approval.id)
            )
        )
        .unique()
        .scalars()
    )
    return [
        {
            "kind": a.kind,
            "subject": a.subject,
            "status": a.status,
            "requested_at": _at(a.requested_at),
            "decided_at": _at(a.decided_at),
        }
        for a in rows
    ]


async def _codes(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    """One-time codes sent for or to them: where and when, never the code's hash."""
    rows = (
        await session.execute(
            select(OneTimeCode)
            .where(or_(OneTimeCode.subject == person.email, OneTimeCode.requester_id == person.id))
            .order_by(OneTimeCode.id)
        )
    ).scalars()
    return [
        {
            "purpose": c.purpose,
            "sent_to": c.sent_to,
            "channel": c.channel,
            "created_at": _at(c.created_at),
            "expires_at": _at(c.expires_at),
            "ended": c.ended,
        }
        for c in rows
    ]


async def _web_sessions(session: AsyncSession, address: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(WebSession).where(WebSession.email == address).order_by(WebSession.id)
        )
    ).scalars()
    return [
        {
            "proven": w.proven,
            "created_at": _at(w.created_at),
            "expires_at": _at(w.expires_at),
            "revoked_at": _at(w.revoked_at),
            "last_seen": _at(w.last_seen),
        }
        for w in rows
    ]


async def _notifications(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(Notification).where(Notification.staff_id == person.id).order_by(Notification.id)
        )
    ).scalars()
    return [
        {
            "channel": n.channel,
            "message": n.reply,
            "created_at": _at(n.created_at),
            "delivered_at": _at(n.delivered_at),
        }
        for n in rows
    ]


async def _desk_account(session: AsyncSession, address: str) -> dict[str, Any] | None:
    account = (
        await session.execute(select(DeskAccount).where(DeskAccount.email == address))
    ).scalar_one_or_none()
    if account is None:
        return None
    return {
        "email": account.email,
        "created_at": _at(account.created_at),
        "last_login_at": _at(account.last_login_at),
    }


async def _audit(session: AsyncSession, address: str) -> list[dict[str, Any]]:
    """Entries where they acted or that name them in their subject."""
    pattern = "%" + address.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = (
        await session.execute(
            select(AuditEntry)
            .where(
                or_(
                    AuditEntry.actor == address,
                    func.lower(AuditEntry.subject).like(pattern, escape="\\"),
                )
            )
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
    ).scalars()
    return [
        {
            "at": _at(e.created_at),
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "details": e.details,
        }
        for e in rows
    ]


async def _activity(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(Activity).where(Activity.staff_id == person.id).order_by(Activity.id)
        )
    ).all()
    return [
        {
            "at": _at(row.at),
            "kind": row.kind,
            "channel": row.channel,
            "intent": row.intent,
            "article_id": row.article_id,
            "category": row.category,
            "rating": row.rating,
            "ticket_ref": row.ticket_ref,
            "minutes": row.minutes,
        }
        for row in rows
    ]


async def _notices(session: AsyncSession, person: Staff) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(NoticeMember, ServiceNotice)
            .join(ServiceNotice, ServiceNotice.id == NoticeMember.notice_id)
            .where(NoticeMember.staff_id == person.id)
            .order_by(NoticeMember.id)
        )
    ).all()
    return [
        {
            "notice": notice.text,
            "since": _at(notice.since),
            "ended_at": _at(notice.ended_at),
            "channel": member.channel,
            "through_their_ticket": member.ticket_id is not None,
        }
        for member, notice in rows
    ]
