"""What a chat shows again after a reload: its recent turns, and the buttons that still work.

Each turn keeps the replies it showed (:func:`kept`, in the turn's details): text, kind,
the guides' ids and titles, and the buttons; a private reply (a temporary password) only
as its placeholder. :func:`recent` gives them back, oldest first: only the newest reply
keeps its buttons, and only those that still mean something (an answer to the question
the conversation still waits on, a switch still pending, any-time presses such as a
rating).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.actions import Action, ConfirmSwitch, FlowAnswer, SubmitForm, encode_action
from bot.conversation.messages import ArticleCard, Reply
from bot.conversation.notify import reply_from_json, reply_to_json
from bot.conversation.state import ConversationState
from bot.conversation.text import choice_number
from bot.facts import DeskFacts
from bot.flows.answer import article_card
from bot.redaction import redact
from bot.storage import conversations as conversation_repo
from bot.storage.models import Staff
from knowledge import KnowledgeBase

#: where a turn keeps the replies it showed (in ``Turn.details``)
REPLIES = "replies"
#: the outcome of a "turn" that only showed ticket news (polled for by a page)
NOTIFIED = "notified"


@dataclass(frozen=True, slots=True)
class Said:
    """One message of the history: the person's (``mine``) or one of the bot's replies."""

    mine: bool
    reply: Reply


def kept(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """The replies as a turn keeps them for the history: never a private reply's text."""
    out: list[dict[str, Any]] = []
    for reply in replies:
        if reply.private:
            out.append({"text": reply.kept_as, "kind": reply.kind, "buttons": []})
            continue
        data = reply_to_json(reply)
        if reply.cards:
            data["cards"] = [{"id": c.article_id, "title": c.title} for c in reply.cards]
        out.append(data)
    return out


async def recent(
    session: AsyncSession,
    staff_id: int,
    channel: str,
    thread: str,
    *,
    kb: KnowledgeBase,
    facts: DeskFacts,
    council: str,
    now: datetime,
    idle_limit: timedelta,
    limit: int = 20,
) -> list[Said]:
    """The last ``limit`` turns of this conversation as messages, oldest first (guides
    shown for ``council``); buttons only on the newest reply, if they still work."""
    conversation = await conversation_repo.find(session, staff_id, channel, thread)
    if conversation is None:
        return []
    said: list[Said] = []
    for turn in await conversation_repo.transcript(session, conversation.id, limit=limit):
        if turn.user_text:
            said.append(Said(True, Reply(turn.user_text)))
        stored = (turn.details or {}).get(REPLIES)
        if isinstance(stored, list):
            replies = [
                _reply(data, kb, facts, council) for data in stored if isinstance(data, dict)
            ]
        else:  # a turn kept before its replies were: its text
            replies = [Reply(turn.reply_text)] if turn.reply_text else []
        said += [Said(False, r) for r in replies]
    state = ConversationState.load(conversation)
    if now - conversation.updated_at > idle_limit:  # the next turn ends the waiting flow
        state.clear()
    for index, message in enumerate(said):
        newest = index == len(said) - 1
        buttons = tuple(
            b for b in message.reply.buttons if newest and _still_works(b.action, state)
        )
        said[index] = Said(message.mine, replace(message.reply, buttons=buttons))
    return said


def _still_works(action: Action, state: ConversationState) -> bool:
    """Whether pressing ``action`` now still answers what it was shown for."""
    match action:
        case FlowAnswer(flow, _):
            return state.waiting and state.flow == flow
        case ConfirmSwitch():
            return state.pending_switch is not None
        case _:  # presses that work at any time (a guide, a rating, a menu choice)
            return True


def _reply(data: dict[str, Any], kb: KnowledgeBase, facts: DeskFacts, council: str) -> Reply:
    reply = reply_from_json(data)
    cards = []
    for stored in data.get("cards") or ():
        article = kb.get(str(stored.get("id", "")))
        if article is not None:
            cards.append(article_card(article, council, facts))
        else:  # the guide is gone: its title, linking nowhere new
            cards.append(ArticleCard(str(stored.get("id", "")), str(stored.get("title", "")), ""))
    return replace(reply, cards=tuple(cards))


async def remember_shown(
    session: AsyncSession,
    staff: Staff,
    channel: str,
    thread: str,
    replies: Sequence[Reply],
    now: datetime,
) -> None:
    """Keep replies shown outside a turn (ticket news a page polled for) in the history."""
    if not replies:
        return
    conversation = await conversation_repo.load_for_update(session, staff, channel, thread)
    await conversation_repo.add_turn(
        session,
        conversation,
        created_at=now,
        outcome=NOTIFIED,
        reply_text="\n".join(r.kept_as if r.private else r.text for r in replies),
        details={REPLIES: kept(replies)},
    )


def kept_action(press: Action | None, secret: bool) -> str | None:
    """A press as the transcript keeps it: a form's typed text redacted, a code form's
    fields not at all."""
    if press is None:
        return None
    if secret and isinstance(press, SubmitForm):
        press = SubmitForm(press.flow, press.verb)
    return redact(encode_action(press))[:200]


def kept_text(text: str, typed_button: str | None) -> str:
    """What the transcript keeps of typed text: redacted, and a typed button number with
    the button's label (``typed_button``: "3 (I can work around it for now)"), so agents
    can read it."""
    if typed_button and choice_number(text, 99) is not None:
        return f"{redact(text)} ({typed_button})"
    return redact(text)
