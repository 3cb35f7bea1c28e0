"""A message that follows an agent's question is a reply to that ticket, on every channel.

After an agent asks the requester something (a public comment on their open ticket), the
requester's next message is most likely the answer ("It's AVDC-PR-0042"). The engine asks
:func:`follow_up` before treating a message as a new request; clearly new requests (a
reset, "my tickets") never come here.

    agent asked, message seen, next message vague  ─▶ added to the ticket
    a clear question, or several turns since       ─▶ "Add this to JSD-000123?" Yes / No
    No                                             ─▶ worked on as a new request
"""

from __future__ import annotations

from datetime import timedelta

from bot import wording
from bot.conversation.actions import FlowAnswer
from bot.conversation.messages import Button, Reply
from bot.conversation.text import yes_no
from bot.desk.errors import DeskError
from bot.desk.service import Actor
from bot.flows.base import NOT_FOR_ME, Flow, FlowContext, FlowRegistry, NotForMe, State, Step
from bot.storage import conversations as conversation_repo
from bot.storage import notifications
from bot.storage.models import Staff

NAME = "ticket_reply"
#: how long an agent's question waits for its answer to be recognised
WINDOW = timedelta(days=7)
#: turns after the question within which a vague message is taken as its answer outright
SURE_TURNS = 1
#: turns after which nothing is taken as an answer any more (the person has moved on)
MAX_TURNS = 5


async def _never_started(ctx: FlowContext) -> Step:
    raise LookupError("the ticket reply flow is started by the engine, not by an intent")


async def follow_up(ctx: FlowContext, *, question: bool) -> Step | None:
    """A reply to the agent who asked, or an offer to add it; ``None``: not a reply.

    ``question``: the message reads as an IT question of its own, so ask before adding it.
    """
    if not ctx.asker.proven:
        return None
    found = await ctx.services.desk.awaiting_requester(
        ctx.session, ctx.asker.staff_id, since=ctx.now - WINDOW
    )
    if found is None:
        return None
    ticket, comment = found
    if await notifications.any_unseen(ctx.session, ctx.asker.staff_id):
        return None  # the agent's words are shown this turn: this message wasn't an answer
    turns = await conversation_repo.turns_since(ctx.session, ctx.asker.staff_id, comment.created_at)
    if turns > MAX_TURNS:
        return None
    ref = ticket.ref or ""
    if turns <= SURE_TURNS and not question:
        return await _add(ctx, ref, ctx.text, comment.author_name)
    ctx.data = {"ref": ref, "text": ctx.text, "agent": comment.author_name}
    if ctx.prediction is not None:
        ctx.data["intent"] = ctx.prediction.intent
    return Step(
        (
            Reply(
                wording.REPLY_OFFER.format(ref=ref, agent=comment.author_name),
                buttons=(
                    Button(f"Add to {ref}", FlowAnswer(NAME, "yes"), style="primary"),
                    Button("No, it's something new", FlowAnswer(NAME, "no")),
                ),
                kind="question",
            ),
        ),
        next="confirm",
        outcome="reply_offered",
        details={"ticket": ref},
    )


async def _add(ctx: FlowContext, ref: str, text: str, agent: str) -> Step:
    ticket = await ctx.services.desk.get(ctx.session, ref)
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    if ticket is None or staff is None:
        return Step((Reply(wording.STALE_BUTTON),), outcome="stale")
    try:
        await ctx.services.desk.comment(ctx.session, ticket, Actor.of(staff), text, now=ctx.now)
    except DeskError as exc:
        return Step((Reply(str(exc)),), outcome="refused")
    return Step(
        (Reply(wording.REPLY_ADDED.format(ref=ref, agent=agent)),),
        outcome="ticket_replied",
        details={"ticket": ref},
    )


async def on_confirm(ctx: FlowContext) -> Step | NotForMe:
    answer = yes_no(ctx.text)
    if answer is None:
        return NOT_FOR_ME
    ref, text = str(ctx.data.get("ref", "")), str(ctx.data.get("text", ""))
    if answer:
        return await _add(ctx, ref, text, str(ctx.data.get("agent") or "the agent"))
    intent = str(ctx.data.get("intent") or "question")
    ctx.text = text
    return Step((), outcome="reply_declined", handoff=intent)


def register(registry: FlowRegistry) -> None:
    registry.register(
        Flow(
            name=NAME,
            intents=frozenset(),
            start=_never_started,
            states={"confirm": State(on_confirm, expecting="yes_no", waiting_for="a yes or no")},
            interruptible=True,
            describe="adding your reply to your ticket",
        )
    )
