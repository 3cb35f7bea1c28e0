"""Raising a ticket (and handing over to a person), as an explicit state table.

    start ─▶ summary? ─▶ category? ─▶ impact ─▶ similar? ─▶ confirm ─▶ raised
                                                   └──▶ added to an open ticket
    form (all at once) ──────────────────────────▶ similar? ─────────▶ raised

Each state waits for a typed answer or a button press (a ``FlowAnswer``); "cancel"
leaves at any point (handled by the engine). A submitted ticket form (a Slack modal) is a
``SubmitForm`` for the :data:`FORM_ACTION` state carrying every answer: submitting it is
the confirmation, but the person is still offered their similar open tickets first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import wording
from bot.access.service import OPERATIONS
from bot.conversation.actions import FlowAnswer, FlowCommand, SubmitForm
from bot.conversation.messages import Button, Reply
from bot.conversation.text import clip, is_cancel, yes_no
from bot.desk.sla import PRIORITY_MEANING
from bot.flows import notices, proof
from bot.flows.base import NOT_FOR_ME, Flow, FlowContext, FlowRegistry, NotForMe, State, Step
from bot.flows.handoff import asks_how_to_reach, desk_contact, handoff_intro
from bot.flows.ticket_form import (
    FORM_ACTION,
    FORM_FLOW,
    MAX_DETAILS,
    MAX_SUMMARY,
    form_fields,
)
from bot.flows.ticket_text import (
    IMPACT_LABELS,
    IMPACT_PRIORITY,
    PRODUCT_CATEGORY,
    chosen_option,
    describes,
    names_a_problem,
    problem_turns,
    summary_of,
    transcript_entry,
)
from bot.redaction import redact
from bot.storage import conversations as conversation_repo
from bot.storage.models import Staff

#: the state that raises a ticket about a question no guide answered, its text in the press
#: (``FlowCommand("raise_ticket", "about", question)``): the ticket starts from it
ABOUT_VERB = "about"


def _flow_name(ctx: FlowContext) -> str:
    return str(ctx.data.get("flow", "raise_ticket"))


def _buttons(ctx: FlowContext, options: list[tuple[str, str]]) -> tuple[Button, ...]:
    flow = _flow_name(ctx)
    return tuple(Button(label, FlowAnswer(flow, value)) for value, label in options)


def _says_what(ctx: FlowContext) -> bool:
    """Whether the message says what the problem is: not only "raise a ticket", nor only
    that what was tried didn't fix it ("that didn't help", after a guide), nor only that
    something is broken ("it's not working")."""
    if ctx.prediction is not None and (ctx.prediction.not_fixed or ctx.prediction.names_nothing):
        return False
    return names_a_problem(ctx.text)


async def _start(ctx: FlowContext, flow: str) -> Step:
    if not ctx.asker.proven:  # no ticket in the name of an address someone typed
        return proof.refuse(ctx, flow)
    ctx.data.update({"flow": flow})
    await _mark_start(ctx)
    slots = ctx.prediction.slots if ctx.prediction else None
    if slots is not None and slots.product in PRODUCT_CATEGORY:
        ctx.data["category"] = PRODUCT_CATEGORY[slots.product]
    handoff = flow == "talk_to_human"
    intro = handoff_intro(ctx) if handoff else ()
    if _says_what(ctx) and _take_summary(ctx, ctx.text):
        step = await _next_question(ctx)
        return Step(intro + step.replies, next=step.next, outcome=step.outcome)
    desk = ctx.services.settings.desk_name
    ask = "What do you need help with?" if handoff else wording.TICKET_ASK_SUMMARY.format(desk=desk)
    return Step((*intro, Reply(ask, kind="question")), next="summary", outcome="asked_summary")


async def _mark_start(ctx: FlowContext) -> None:
    """Remember where this ticket's conversation starts: its transcript is the turns since."""
    if "since_turn" not in ctx.data:
        ctx.data["since_turn"] = await conversation_repo.last_turn_id(
            ctx.session, ctx.conversation_id
        )


def _take_summary(ctx: FlowContext, text: str) -> bool:
    """Keep the problem in ``text`` as the summary (all of it in the details if it was cut);
    ``False`` if nothing but request words is left."""
    summary = summary_of(text)
    if len(summary.split()) < 2:
        return False
    ctx.data["summary"] = summary
    if summary.endswith("…") and not ctx.data.get("details"):
        ctx.data["details"] = text[:MAX_DETAILS]
    return True


async def start_raise(ctx: FlowContext) -> Step:
    return await _start(ctx, "raise_ticket")


def raise_about(question: str) -> FlowCommand:
    """The "Raise a ticket" press offered after ``question`` found no guide: the ticket
    starts with it as the problem, so the person isn't asked to type it again (redacted,
    as a press is kept in the transcript)."""
    return FlowCommand(FORM_FLOW, ABOUT_VERB, redact(question)[:MAX_SUMMARY])


async def on_about(ctx: FlowContext) -> Step:
    return await _start(ctx, "raise_ticket")


async def start_handoff(ctx: FlowContext) -> Step:
    if asks_how_to_reach(ctx.text):  # "what's the desk's number?": that, not a ticket
        return desk_contact(ctx)
    return await _start(ctx, "talk_to_human")


async def _next_question(ctx: FlowContext) -> Step:
    """Ask for whatever is still missing, in order."""
    if "notice_checked" not in ctx.data:
        ctx.data["notice_checked"] = True
        summary, category = str(ctx.data["summary"]), str(ctx.data.get("category", ""))
        notice = await notices.standing_for(ctx, summary, category)
        if notice is not None:  # a known problem: told first, and they may add themselves
            anyway = Button(wording.NOTICE_RAISE_ANYWAY, FlowAnswer(_flow_name(ctx), "new"))
            return Step(
                (notices.told_first(notice, anyway),),
                next="notice",
                outcome="told_notice",
                details={"notice": notice.id},
            )
    if "category" not in ctx.data:
        options = list(wording.CATEGORY_LABELS.items())
        return Step(
            (Reply(wording.TICKET_ASK_CATEGORY, buttons=_buttons(ctx, options), kind="question"),),
            next="category",
            outcome="asked_category",
        )
    if "priority" not in ctx.data:
        options = list(IMPACT_LABELS.items())
        return Step(
            (Reply(wording.TICKET_ASK_IMPACT, buttons=_buttons(ctx, options), kind="question"),),
            next="impact",
            outcome="asked_impact",
        )
    if "similar_checked" not in ctx.data:
        ctx.data["similar_checked"] = True
        desk = ctx.services.desk
        similar = await desk.similar_open(ctx.session, ctx.asker.staff_id, ctx.data["summary"])
        if similar:
            options = [(f"add:{t.ref}", f"Add to {t.ref}: {clip(t.summary, 40)}") for t in similar]
            ctx.data["similar"] = [t.ref for t in similar]
            options.append(("new", "No, raise a new ticket"))
            text = wording.TICKET_SIMILAR.format(count=len(similar))
            return Step(
                (Reply(text, buttons=_buttons(ctx, options), kind="question"),),
                next="similar",
                outcome="offered_similar",
            )
    if ctx.data.get("confirmed"):  # the person confirmed in the form
        return await _raise(ctx)
    priority = str(ctx.data["priority"])
    text = wording.TICKET_CONFIRM.format(
        desk=ctx.services.settings.desk_name,
        summary=ctx.data["summary"],
        category=wording.CATEGORY_LABELS[str(ctx.data["category"])],
        priority=priority,
        meaning=PRIORITY_MEANING[priority],  # type: ignore[index]
    )
    options = [("yes", "Yes, raise it"), ("no", "No, don't")]
    return Step(
        (Reply(text, buttons=_buttons(ctx, options), kind="question"),),
        next="confirm",
        outcome="asked_confirm",
    )


async def on_summary(ctx: FlowContext) -> Step | NotForMe:
    if ctx.incoming.press is not None or _asks_instead(ctx):
        return NOT_FOR_ME
    if len(ctx.text.split()) < 2 or not _take_summary(ctx, ctx.text):
        return Step((Reply(wording.TICKET_SUMMARY_TOO_SHORT, kind="question"),), next="summary")
    return await _next_question(ctx)


def _asks_instead(ctx: FlowContext) -> bool:
    """What the bot does itself, asked for instead of describing the problem ("my tickets",
    "I'm locked out"): done now, the draft waits. A question may well be the problem, and
    so may a longer message the model reads as a reset ("nothing has worked since the update")."""
    prediction = ctx.prediction
    if not ctx.new_request or prediction is None:
        return False
    if prediction.intent == "ticket_status":  # "my tickets", "any news on JSD-000123"
        return "ticket" in ctx.text.lower() or prediction.slots.ticket_ref is not None
    return prediction.intent in OPERATIONS and len(ctx.text.split()) <= 4


async def on_category(ctx: FlowContext) -> Step | NotForMe:
    chosen = chosen_option(ctx.text, wording.CATEGORY_LABELS)
    if chosen is not None:
        ctx.data["category"] = chosen
        return await _next_question(ctx)
    # in words: a short answer naming the thing ("outlook", "it's the printer"), or more
    # about this problem ("the keyboard has stopped too"); anything else is the engine's
    prediction = ctx.prediction
    named = PRODUCT_CATEGORY.get(prediction.slots.product or "") if prediction else None
    short = len(ctx.text.split()) <= 4
    intent = prediction.intent if prediction is not None else ""
    more = intent in {"raise_ticket", "talk_to_human"}
    other = ctx.new_request and intent not in {"question", "out_of_scope"}  # "reset my password"
    statement = describes(ctx.text)
    if named is None and not other and statement:  # "it flickers with the HDMI cable"
        return await _more_detail(ctx, statements_too=True)
    if named is None or ctx.incoming.press is not None or not (short or more or statement) or other:
        return NOT_FOR_ME
    ctx.data["category"] = named
    _keep_detail(ctx, ctx.text)
    step = await _next_question(ctx)
    taken = Reply(wording.TICKET_CATEGORY_TAKEN.format(category=wording.CATEGORY_LABELS[named]))
    return Step((taken, *step.replies), next=step.next, outcome=step.outcome)


async def on_impact(ctx: FlowContext) -> Step | NotForMe:
    if not _take_impact(ctx):
        return await _more_detail(ctx, statements_too=True) if describes(ctx.text) else NOT_FOR_ME
    return await _next_question(ctx)


def _take_impact(ctx: FlowContext) -> bool:
    """Whether ``ctx.text`` chose how much it stops the person (kept as the priority)."""
    chosen = chosen_option(ctx.text, IMPACT_LABELS)
    if chosen is not None:
        ctx.data["impact"], ctx.data["priority"] = IMPACT_LABELS[chosen], IMPACT_PRIORITY[chosen]
    return chosen is not None


def _changes_impact(ctx: FlowContext) -> bool:
    """ "actually make it urgent" at "Shall I raise it?" (a cancel, to the detector): how much
    it stops the person is asked again, or taken when typed; the draft stands."""
    if is_cancel(ctx.text):
        return False
    if _take_impact(ctx):  # "I can't work at all"
        return True
    if ctx.prediction is None or ctx.prediction.slots.urgency is None:
        return False
    ctx.data.pop("priority", None)  # "urgent" is P1 or P2: asked in the options' words
    ctx.data.pop("impact", None)
    return True


async def on_similar(ctx: FlowContext) -> Step | NotForMe:
    value = ctx.text.strip()
    answer = yes_no(value.lower()) if ctx.incoming.press is None else None
    similar = ctx.data.get("similar") or []
    if answer is False:  # "no": a new ticket
        value = "new"
    elif answer is True and len(similar) == 1:  # "yes": the one ticket offered
        value = f"add:{similar[0]}"
    if value == "new":
        return await _next_question(ctx)
    if not value.startswith("add:"):
        return NOT_FOR_ME
    desk = ctx.services.desk
    ticket = await desk.get(ctx.session, value.removeprefix("add:"))
    if ticket is None or ticket.requester_id != ctx.asker.staff_id:
        return await _next_question(ctx)
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    assert staff is not None
    from bot.desk.service import Actor

    await desk.comment(ctx.session, ticket, Actor.of(staff), str(ctx.data["summary"]), now=ctx.now)
    return Step(
        (Reply(wording.TICKET_ADDED.format(ref=ticket.ref)),),
        outcome="added_to_ticket",
        details={"ticket": ticket.ref},
    )


async def on_notice(ctx: FlowContext) -> Step | NotForMe:
    """After a notice: "Raise a ticket anyway" goes on ("Add me to it" is ``notice:join``)."""
    if ctx.text.strip() != "new" and yes_no(ctx.text.strip().lower()) is not True:
        return NOT_FOR_ME
    return await _next_question(ctx)


#: intents that are never more detail for the ticket when typed at "Shall I raise it?"
_NOT_DETAIL = frozenset({"cancel", "greeting", "thanks", "goodbye"})


async def on_confirm(ctx: FlowContext) -> Step | NotForMe:
    answer = ctx.text.strip().lower()
    agreed = True if answer == "yes" else False if answer == "no" else yes_no(answer)
    if agreed is None and _changes_impact(ctx):
        return await _next_question(ctx)
    if agreed is None:
        return await _more_detail(ctx)
    if not agreed:
        return Step((Reply(wording.TICKET_NOT_RAISED),), outcome="ticket_not_raised")
    return await _raise(ctx)


async def _more_detail(ctx: FlowContext, *, statements_too: bool = False) -> Step | NotForMe:
    """Something typed at "Shall I raise it?" that isn't a yes, a no or a request of its own
    ("it's the one on the ceiling") is more about the problem: kept in the ticket's details,
    then the same question again. With ``statements_too``, a statement (:func:`describes`)
    the detector reads as a question of its own is kept too."""
    intent = ctx.prediction.intent if ctx.prediction is not None else None
    asked = intent in {"question", "out_of_scope"} and statements_too
    if ctx.incoming.press is not None or (ctx.new_request and not asked) or intent in _NOT_DETAIL:
        return NOT_FOR_ME
    added = _keep_detail(ctx, ctx.text)
    if added is None:
        return NOT_FOR_ME
    short = clip(added, 80)
    step = await _next_question(ctx)
    noted = Reply(wording.TICKET_DETAIL_ADDED.format(detail=short))
    return Step((noted, *step.replies), next=step.next, outcome="ticket_detail_added")


def _keep_detail(ctx: FlowContext, text: str) -> str | None:
    """Add ``text`` (three words or more) to the ticket's details: what was added, if any."""
    added = " ".join(text.split())
    if len(added.split()) < 3:
        return None
    before = str(ctx.data.get("details") or "")
    ctx.data["details"] = (f"{before}\n{added}" if before else added)[:MAX_DETAILS]
    return added


async def _raise(ctx: FlowContext) -> Step:
    if not ctx.asker.proven:
        return proof.refuse(ctx, _flow_name(ctx))
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    assert staff is not None
    turns = await conversation_repo.transcript(ctx.session, ctx.conversation_id, limit=40)
    since = ctx.data.get("since_turn")
    kb = ctx.services.knowledge.kb

    def title(article_id: str) -> str | None:
        article = kb.get(article_id)
        return article.title if article is not None else None

    transcript: list[dict[str, Any]] = [
        transcript_entry(t, title)
        for t in problem_turns(
            turns,
            since=since if isinstance(since, int) else None,
            gap=timedelta(minutes=ctx.services.settings.flow_timeout_minutes),
        )
    ]
    ticket = await ctx.services.desk.raise_ticket(
        ctx.session,
        requester=staff,
        summary=str(ctx.data["summary"]),
        category=str(ctx.data["category"]),
        priority=str(ctx.data["priority"]),
        impact=str(ctx.data.get("impact", "")),
        description=str(ctx.data.get("details", "")),
        now=ctx.now,
        transcript=transcript,
        reply_channel=ctx.incoming.channel,
        reply_thread=ctx.incoming.thread,
        source=_source(ctx),
    )
    text = wording.TICKET_RAISED.format(
        ref=ticket.ref,
        desk=ctx.services.settings.desk_name,
        priority=ticket.priority,
        response_due=wording.due(ticket.response_due),
        resolution_due=wording.due(ticket.resolution_due),
    )
    return Step((Reply(text),), outcome="ticket_raised", details={"ticket": ticket.ref})


def _source(ctx: FlowContext) -> str:
    if _flow_name(ctx) == "talk_to_human":
        return "handoff"
    return "form" if ctx.data.get("confirmed") else "chat"


async def on_form(ctx: FlowContext) -> Step:
    """Every answer at once: check for similar open tickets, then raise it (no second ask)."""
    if not ctx.asker.proven:
        return proof.refuse(ctx, FORM_FLOW)
    submitted = ctx.incoming.press
    fields = form_fields(submitted.values() if isinstance(submitted, SubmitForm) else {})
    ctx.data.update({"flow": "raise_ticket", "confirmed": True})
    await _mark_start(ctx)
    if fields.get("summary"):
        ctx.data["summary"] = fields["summary"][:MAX_SUMMARY]
    if fields.get("category") in wording.CATEGORY_LABELS:
        ctx.data["category"] = fields["category"]
    if (key := fields.get("impact", "")) in IMPACT_LABELS:
        ctx.data["impact"], ctx.data["priority"] = IMPACT_LABELS[key], IMPACT_PRIORITY[key]
    if fields.get("details"):
        ctx.data["details"] = fields["details"][:MAX_DETAILS]
    if "summary" not in ctx.data:  # a form from elsewhere that skipped the check
        desk = ctx.services.settings.desk_name
        ask = wording.TICKET_ASK_SUMMARY.format(desk=desk)
        return Step((Reply(ask, kind="question"),), next="summary", outcome="asked_summary")
    return await _next_question(ctx)


STATES = {
    "summary": State(
        on_summary, expecting="text", waiting_for="a short description of the problem"
    ),
    "category": State(on_category, expecting="choice", waiting_for="what it's about"),
    "impact": State(on_impact, expecting="choice", waiting_for="how much it's stopping you"),
    "notice": State(
        on_notice, expecting="choice", waiting_for="whether to raise a ticket about a known problem"
    ),
    "similar": State(
        on_similar, expecting="choice", waiting_for="whether to add it to your ticket"
    ),
    "confirm": State(on_confirm, expecting="yes_no", waiting_for="a yes or no to raise the ticket"),
}


#: ``raise_ticket:form`` answers a submitted form at any time, replacing any other flow
RAISE_STATES = {
    **STATES,
    FORM_ACTION: State(on_form, starts_flow=True),
    f"{FORM_FLOW}:{ABOUT_VERB}": State(on_about, starts_flow=True),
}


def register(registry: FlowRegistry) -> None:
    registry.register(
        Flow("raise_ticket", frozenset({"raise_ticket"}), start_raise, RAISE_STATES,
             describe="raising a ticket")
    )  # fmt: skip
    registry.register(
        Flow("talk_to_human", frozenset({"talk_to_human"}), start_handoff, STATES,
             describe="passing you to the service desk", acts_on=asks_how_to_reach)
    )  # fmt: skip
