"""Where my tickets stand: list, show by reference, chase, comment, close, reopen, rate.

    start ─▶ (ref given) show ─▶ act: comment ─▶ (text) ─▶ done
          └▶ (no ref) pick ─▶ show           chase / close / reopen ─▶ done

"Chase my ticket" chases its one open ticket (or the one named) at once: the request for
news goes on the ticket for its agent, at most once an hour.

The CSAT question ("How did we do?") arrives as a notification with buttons
``ticket_status:csat`` that work at any time; its optional comment is a state.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot import wording
from bot.conversation.actions import ChooseIntent, FlowAnswer
from bot.conversation.messages import Button, Reply
from bot.conversation.text import clip, yes_no
from bot.desk.errors import DeskError
from bot.desk.service import REOPEN_WINDOW_DAYS, Actor
from bot.desk.tickets import OPEN_STATUSES, Ticket
from bot.flows import proof, ticket_text
from bot.flows.base import NOT_FOR_ME, Flow, FlowContext, FlowRegistry, NotForMe, State, Step
from bot.storage.models import Staff

NAME = "ticket_status"
#: a second "any update?" this soon after the first adds nothing to the ticket
CHASE_AGAIN_AFTER = timedelta(hours=1)


def describe(ticket: Ticket) -> str:
    who = f" with {ticket.assignee.display_name}" if ticket.assignee else ""
    lines = [f"{ticket.ref}: {ticket.summary}", f"Status: {ticket.status}{who} · {ticket.priority}"]
    if ticket.status in OPEN_STATUSES:
        lines.append(f"Aiming to fix by {wording.due(ticket.resolution_due)}")
    return "\n".join(lines)


async def _mine(ctx: FlowContext, ref: str) -> Ticket | None:
    """The ticket ``ref`` if the asker may see it: a proven requester, or a proven agent."""
    if not ctx.asker.proven:
        return None
    ticket = await ctx.services.desk.get(ctx.session, ref)
    if ticket is None or (ticket.requester_id != ctx.asker.staff_id and not ctx.asker.is_agent):
        return None
    return ticket


async def _show(ctx: FlowContext, ticket: Ticket) -> Step:
    comments = await ctx.services.desk.comments(ctx.session, ticket, public_only=True)
    text = describe(ticket)
    if comments:
        last = comments[-1]
        text += f"\nLatest from {last.author_name}: {last.body[:300]}"
    options: list[tuple[str, str]] = [("comment", "Add a comment")]
    if ticket.status in OPEN_STATUSES:
        options.insert(0, ("chase", ticket_text.CHASE_BUTTON))
        options.append(("close", "Close it, it's sorted"))
    elif ctx.services.desk.can_reopen(ticket, ctx.now):
        options.append(("reopen", "Reopen it"))
    ctx.data["ref"] = ticket.ref
    buttons = tuple(Button(label, FlowAnswer(NAME, value)) for value, label in options)
    return Step((Reply(text, buttons=buttons),), next="act", details={"ticket": ticket.ref},
                outcome="showed_ticket")  # fmt: skip


async def _ask_comment(ctx: FlowContext, ticket: Ticket) -> Step:
    ctx.data["ref"] = ticket.ref
    if (said := _INLINE_COMMENT.match(ctx.text.strip())) is not None:  # "add to it: ..."
        staff = await ctx.session.get(Staff, ctx.asker.staff_id)
        assert staff is not None
        return await _comment(ctx, ticket, staff, said.group(1))
    ask = wording.TICKET_ASK_COMMENT.format(ref=f"{ticket.ref} ({clip(ticket.summary, 60)})")
    return Step((Reply(ask, kind="question"),), next="comment", outcome="asked_comment")


async def start(ctx: FlowContext) -> Step:
    if not ctx.asker.proven:
        return proof.refuse(ctx, NAME)
    slots = ctx.prediction.slots if ctx.prediction else None
    ref = slots.ticket_ref if slots is not None else None
    adding = slots is not None and slots.adds_to_ticket
    chases = _CHASE.search(ctx.text.lower()) is not None
    ticket = await _mine(ctx, ref) if ref else None
    if ticket is not None:
        if chases:  # "chase JSD-000123"
            return await _chase(ctx, ticket)
        return await _ask_comment(ctx, ticket) if adding else await _show(ctx, ticket)
    tickets = await ctx.services.desk.for_requester(ctx.session, ctx.asker.staff_id)
    open_ones = [t for t in tickets if t.status in OPEN_STATUSES]
    if adding and not ref and len(open_ones) == 1:  # the one ticket it can be: no list
        return await _ask_comment(ctx, open_ones[0])
    if not ref and len(open_ones) == 1 and _act(ctx.text) == "close":  # "cancel my ticket"
        return await _show(ctx, open_ones[0])  # with its "Close it", one press away
    if not ref and len(open_ones) == 1 and chases:  # "chase my ticket"
        return await _chase(ctx, open_ones[0])
    if not tickets:
        if ref:
            text = wording.TICKET_NOT_FOUND.format(ref=ref).rsplit(",", 1)[0] + "."
        else:  # "I raised one last week": perhaps not here
            settings = ctx.services.settings
            contact = wording.contact(settings, settings.council(ctx.asker.council))
            text = wording.NO_TICKETS.format(desk=settings.desk_name, contact=contact)
        raise_one = Button("Raise a ticket", ChooseIntent("raise_ticket"), yes=True)
        return Step((Reply(text, buttons=(raise_one,)),), outcome="no_tickets")
    buttons = tuple(
        Button(f"{t.ref} · {clip(t.summary, 40)} ({t.status})", FlowAnswer(NAME, f"show:{t.ref}"))
        for t in tickets[:5]
    )
    text = wording.TICKET_NOT_FOUND.format(ref=ref) if ref else wording.YOUR_TICKETS
    if len(tickets) == 1:  # "close it please" can only mean this one (see on_pick)
        ctx.data["ref"] = tickets[0].ref
    return Step(
        (Reply(text, buttons=buttons, kind="question"),), next="pick", outcome="listed_tickets"
    )


async def on_pick(ctx: FlowContext) -> Step | NotForMe:
    value = ctx.text.strip()
    if ctx.data.get("ref") and ctx.incoming.press is None and _act(value) in ACTS:
        return await on_act(ctx)  # the only ticket listed, and what to do with it in words
    if not value.startswith("show:"):
        return NOT_FOR_ME
    ticket = await _mine(ctx, value.removeprefix("show:"))
    if ticket is None:
        return NOT_FOR_ME
    return await _show(ctx, ticket)


#: asking the desk to hurry a ticket: "chase my ticket" does it at once (its one open ticket,
#: or the one named); "any update?" asks to see it, and at a ticket shown, chases it
_CHASE = re.compile(r"\b(?:chase|chasing|hurry (?:it|this|them) up|speed (?:it|this) up)\b")
#: what to do with the ticket, in words ("close it please", "it's sorted now", "add a
#: note"); a reopen first, so "it's not fixed after all" never closes it
_TYPED_ACTS = (
    (
        "chase",
        re.compile(
            rf"{_CHASE.pattern}|\b(?:any (?:update|updates|news|progress)"
            r"|(?:is there|got) (?:an |any )?(?:update|news))\b"
        ),
    ),
    ("reopen", re.compile(r"\b(?:re-?open|not (?:fixed|sorted|resolved)|still|again|came back)\b")),
    (
        "close",
        re.compile(
            r"\b(?:close|closed|sorted|fixed|resolved|working now|works now|withdraw)\b"
            r"|\bcancel (?:my |the |this |that )?(?:ticket|request|call)\b"
            r"|\b(?:do ?n[o']?t|no longer) need (?:it|this|that|the ticket)\b"
        ),
    ),
    ("comment", re.compile(r"\b(?:comment|note|add|tell them|update)\b")),
)


ACTS = frozenset({"chase", "comment", "close", "reopen"})
#: a comment said with the asking ("add a note: it's the left one"): group 1 is the comment
_INLINE_COMMENT = re.compile(
    r"^(?:please |can you |could you )?(?:add(?: (?:a |this )?(?:note|comment))?|note|comment"
    r"|tell them)(?: (?:to|on) (?:it|the ticket|my ticket|[a-z]{2,6}-?\d{1,6}))?(?: that)?"
    r"\s*[:,-]\s*(\S.{2,})$",
    re.IGNORECASE | re.DOTALL,
)
#: what is never a comment, at "What would you like to add?": thanks, a bare no
_NOT_A_COMMENT = frozenset({"thanks", "goodbye", "greeting"})


def _act(text: str) -> str:
    """The pressed value, or what a short message in words asks to do with the ticket."""
    choice = text.strip().lower()
    if _INLINE_COMMENT.match(choice):
        return "comment"
    if choice in ACTS or len(choice.split()) > 8:
        return choice
    return next((act for act, pattern in _TYPED_ACTS if pattern.search(choice)), choice)


async def on_act(ctx: FlowContext) -> Step | NotForMe:
    choice = _act(ctx.text)
    ticket = await _mine(ctx, str(ctx.data.get("ref", "")))
    if ticket is None:
        return NOT_FOR_ME
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    assert staff is not None
    if choice == "chase":
        return await _chase(ctx, ticket)
    if choice == "comment":
        if (said := _INLINE_COMMENT.match(ctx.text.strip())) is not None:
            return await _comment(ctx, ticket, staff, said.group(1))
        return Step(
            (Reply(wording.TICKET_ASK_COMMENT.format(ref=ticket.ref), kind="question"),),
            next="comment",
        )
    try:
        if choice == "close":
            await ctx.services.desk.set_status(
                ctx.session, ticket, Actor.of(staff), "closed", now=ctx.now
            )
            text = wording.TICKET_CLOSED.format(ref=ticket.ref, days=REOPEN_WINDOW_DAYS)
        elif choice == "reopen":
            await ctx.services.desk.set_status(
                ctx.session, ticket, Actor.of(staff), "open", now=ctx.now
            )
            text = wording.TICKET_REOPENED.format(ref=ticket.ref)
        else:
            return NOT_FOR_ME
    except DeskError as exc:
        return Step((Reply(str(exc)),), outcome="refused")
    return Step((Reply(text),), outcome=f"ticket_{choice}", details={"ticket": ticket.ref})


async def _chase(ctx: FlowContext, ticket: Ticket) -> Step:
    """ "Any update?": the requester's request for news goes on the ticket for its agent
    (once an hour at most), and they're told when the desk aims to answer. A ticket no
    longer open is shown instead, with its Reopen."""
    if ticket.status not in OPEN_STATUSES:
        return await _show(ctx, ticket)
    desk, settings = ctx.services.desk, ctx.services.settings
    words = {"ref": ticket.ref, "desk": settings.desk_name}
    comments = await desk.comments(ctx.session, ticket, public_only=True)
    asked = [
        c
        for c in comments
        if c.author_id == ctx.asker.staff_id and c.body == ticket_text.CHASE_NOTE
    ]
    if asked and ctx.now - asked[-1].created_at < CHASE_AGAIN_AFTER:
        when = wording.due(asked[-1].created_at).split(", ")[-1]
        text = ticket_text.CHASED_ALREADY.format(when=when, **words)
        return Step((Reply(text),), outcome="ticket_chased_already", details={"ticket": ticket.ref})
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    assert staff is not None
    await desk.comment(ctx.session, ticket, Actor.of(staff), ticket_text.CHASE_NOTE, now=ctx.now)
    responded = ticket.first_response_at is not None
    due = ticket.resolution_due if responded else ticket.response_due
    aim = ticket_text.AIM_TO_FIX if responded else ticket_text.AIM_TO_RESPOND
    if due < ctx.now:
        aim = ticket_text.AIMED_TO_FIX if responded else ticket_text.AIMED_TO_RESPOND
    aim = aim.format(due=wording.due(due))
    text = ticket_text.CHASED.format(aim=aim, **words)
    return Step((Reply(text),), outcome="ticket_chased", details={"ticket": ticket.ref})


async def on_comment(ctx: FlowContext) -> Step | NotForMe:
    if ctx.incoming.press is not None or not ctx.text.strip():
        return NOT_FOR_ME
    ticket = await _mine(ctx, str(ctx.data.get("ref", "")))
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    if ticket is None or staff is None:
        return NOT_FOR_ME
    intent = ctx.prediction.intent if ctx.prediction is not None else ""
    if len(ctx.text.split()) <= 4 and (intent in _NOT_A_COMMENT or yes_no(ctx.text) is False):
        # "thanks" or "no" is not something for the agent to read
        reply = Reply(wording.TICKET_NOTHING_ADDED.format(ref=ticket.ref))
        return Step((reply,), outcome="comment_dropped", details={"ticket": ticket.ref})
    return await _comment(ctx, ticket, staff, ctx.text)


async def _comment(ctx: FlowContext, ticket: Ticket, staff: Staff, text: str) -> Step:
    await ctx.services.desk.comment(ctx.session, ticket, Actor.of(staff), text, now=ctx.now)
    return Step(
        (Reply(wording.TICKET_COMMENTED.format(ref=ticket.ref)),),
        outcome="ticket_commented",
        details={"ticket": ticket.ref},
    )


async def on_csat(ctx: FlowContext) -> Step | NotForMe:
    if not ctx.asker.proven:
        return proof.refuse(ctx, NAME)
    ref, _, score = ctx.text.partition(":")
    ticket = await _mine(ctx, ref)
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    if ticket is None or staff is None or not score.isdigit():
        return Step((Reply(wording.ARTICLE_GONE.replace("guide", "ticket")),), outcome="stale")
    try:
        await ctx.services.desk.rate(ctx.session, ticket, Actor.of(staff), int(score), now=ctx.now)
    except DeskError as exc:
        return Step((Reply(str(exc)),), outcome="refused")
    ctx.data["ref"] = ticket.ref
    return Step(
        (Reply(wording.CSAT_THANKS.format(ref=ticket.ref), kind="question"),),
        next="csat_comment",
        outcome="rated",
    )


async def on_csat_comment(ctx: FlowContext) -> Step | NotForMe:
    if ctx.incoming.press is not None:
        return NOT_FOR_ME
    ticket = await _mine(ctx, str(ctx.data.get("ref", "")))
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    if ticket is None or staff is None:
        return NOT_FOR_ME
    if yes_no(ctx.text) is not False and ticket.csat_score is not None:
        await ctx.services.desk.rate(
            ctx.session, ticket, Actor.of(staff), ticket.csat_score, now=ctx.now, comment=ctx.text
        )
    return Step((Reply(wording.CSAT_DONE),), outcome="rated_with_comment")


def register(registry: FlowRegistry) -> None:
    registry.register(
        Flow(
            NAME,
            frozenset({"ticket_status"}),
            start,
            {
                "pick": State(on_pick, expecting="choice", waiting_for="which ticket to look at"),
                "act": State(on_act, expecting="choice", waiting_for="what to do with the ticket"),
                "comment": State(on_comment, waiting_for="your comment"),
                "csat_comment": State(
                    on_csat_comment, waiting_for="anything to add", optional=True
                ),
                # rating starts the flow afresh: the person's next message is their comment
                f"{NAME}:csat": State(on_csat, starts_flow=True),
            },
            interruptible=True,
            describe="looking at your tickets",
        )
    )
