"""Resetting one's own password, unlocking one's account, resetting one's MFA.

    start ─▶ checks + code sent to the alternate contact ─▶ code ─▶ done
      │         │                                           │  └─▶ MFA: waits for an agent
      │         └─▶ refused alike + the guide + a ticket    └─▶ wrong ×5 / expired: ends
      └─▶ MFA, a new phone: the guide, and a "reset my MFA" button ─▶ checks ...

Someone moving to a new phone who still has the old one only needs the guide: an MFA
reset would remove the methods they can still use, so that guide comes first, with the
reset one press away (a lost, broken or wiped phone, or a plain "reset my MFA", goes
straight to the checks).

The person must be proven by their channel (Slack profile, terminal, SSO, a code to the
mailbox). The code goes to the contact the directory holds, never to the chat, and the
reply only says where ("your mobile ending 123"). A temporary password is a private reply
(:attr:`Reply.private`): shown once, kept in the transcript as a placeholder. A channel
with forms (``Incoming.forms``: Slack's modals) shows it only in the form the code was
entered in, so there a password reset takes its code from the form, never from the chat.
Whatever check fails, the reply is the same (the reason goes to the audit log and the desk).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot import wording
from bot.access.codes import end as end_code
from bot.access.codes import typed_code
from bot.access.service import Done, Refused, Started
from bot.conversation.actions import FlowAnswer, FlowCommand, SubmitForm
from bot.conversation.messages import ArticleCard, Button, Reply
from bot.flows.answer import card
from bot.flows.base import NOT_FOR_ME, Flow, FlowContext, FlowRegistry, NotForMe, State, Step
from bot.flows.reset_text import (
    BY_EMAIL,
    BY_TEXT,
    CANT_GET_IT,
    CODE_EXPIRED,
    CODE_NOT_ARRIVED,
    CODE_SENT,
    CODE_SENT_FORM,
    CODE_WRONG,
    DIRECTORY_DOWN,
    FOR_SOMEONE_ELSE,
    MFA_WAITING,
    MOVE_FIRST,
    MOVE_KEPT,
    MOVE_RESET,
    MOVE_WITH_GUIDE,
    NEW_NUMBER,
    NO_CODE_ASKED,
    NOT_PROVEN,
    PASSED_ON,
    PASSWORD_DONE,
    REFUSED,
    TOLD_CONTACT,
    TOO_MANY,
    UNLOCK_DONE,
    USE_THE_FORM,
)
from bot.flows.reset_words import (
    asks_resend,
    asks_what_code,
    cant_get_it,
    changes_number,
    moves_own_phone,
    moves_phone,
    says_not_arrived,
)
from bot.storage.models import Staff

INTENTS = ("reset_password", "unlock_account", "reset_mfa")
#: the bundled guide each reset falls back to
GUIDES = {
    "reset_password": "sign-in/forgotten-password",
    "unlock_account": "sign-in/account-locked",
    "reset_mfa": "sign-in/move-authenticator-to-a-new-phone",
}
#: what the transcript keeps instead of a temporary password
SHOWN_ONCE = "[temporary password shown once]"
#: the code form (a Slack modal) submits ``SubmitForm(<intent>, CODE_FORM, {CODE_FIELD: ...})``
CODE_FORM, CODE_FIELD = "code_form", "code"

#: the verbs of the ``reset_mfa:`` states :data:`MOVE_RESET` and :data:`MOVE_KEPT` press
INSTEAD, KEPT = "instead", "kept"


def _words(ctx: FlowContext) -> dict[str, Any]:
    settings = ctx.services.settings
    council = settings.council(ctx.asker.council)
    intent = _intent(ctx)
    return {
        "action": wording.action(intent),
        "desk": settings.desk_name,
        "phone": council.desk_phone,
        "minutes": settings.code_minutes,
    }


def _intent(ctx: FlowContext) -> str:
    intent = str(ctx.data.get("intent", ""))
    if intent in INTENTS:
        return intent
    predicted = ctx.prediction.intent if ctx.prediction else ""
    return predicted if predicted in INTENTS else "reset_password"


def _guide(ctx: FlowContext, intent: str) -> tuple[ArticleCard, ...]:
    article = ctx.services.knowledge.kb.get(GUIDES[intent])
    return (card(ctx, article),) if article is not None else ()


async def _ticket(ctx: FlowContext, intent: str, why: str, colleague: str = "") -> str:
    """Raise (or reuse) the desk's ticket for a reset the bot can't do; its reference."""
    desk = ctx.services.desk
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    assert staff is not None
    whose = f"a colleague ({colleague})" if colleague else staff.display_name
    action = wording.action(intent).replace("your ", "the ")
    summary = f"{wording.upper_first(action)} for {whose}"  # "MFA" stays in capitals
    for ticket in await desk.for_requester(ctx.session, staff.id):
        if ticket.summary == summary and ticket.ref:
            return ticket.ref
    ticket = await desk.raise_ticket(
        ctx.session,
        requester=staff,
        summary=summary,
        category="sign-in",
        priority="P2",
        description=f"The bot could not do this itself: {why}. Check who is asking first.",
        now=ctx.now,
        reply_channel=ctx.incoming.channel,
        reply_thread=ctx.incoming.thread,
        source="reset",
    )
    return ticket.ref or ""


# -- start ---------------------------------------------------------------------------------


async def start(ctx: FlowContext) -> Step:
    intent = _intent(ctx)
    ctx.data.clear()
    ctx.data["intent"] = intent
    slots = ctx.prediction.slots if ctx.prediction else None
    for_colleague = slots is not None and slots.for_colleague
    if (
        intent == "reset_mfa"
        and not for_colleague
        and (not ctx.text.strip() or moves_phone(ctx.text))
    ):
        # no words (the help menu's "New phone / MFA") or a new phone: the guide may do
        return _move_first(ctx)
    return await _begin(ctx, intent)


async def _begin(ctx: FlowContext, intent: str) -> Step:
    words = _words(ctx)
    if not ctx.asker.proven:
        return Step((Reply(NOT_PROVEN.format(**words)),), outcome="not_proven")
    slots = ctx.prediction.slots if ctx.prediction else None
    if slots is not None and slots.for_colleague:
        ref = await _ticket(ctx, intent, "asked for a colleague", slots.colleague or "unnamed")
        text = FOR_SOMEONE_ELSE.format(ref=ref, **words)
        return Step((Reply(text),), outcome="for_colleague", details={"ticket": ref})
    return await _send_code(ctx, intent)


async def _send_code(ctx: FlowContext, intent: str) -> Step:
    """Send a code, or refuse; either way the reply takes the same time (OWASP): at least
    ``reset_reply_seconds`` (a directory lookup, a hash and a send take ~0.1 s on the demo
    directory; a refusal raises a ticket instead)."""
    started = time.perf_counter()
    step = await _code_or_refusal(ctx, intent)
    spent = time.perf_counter() - started
    floor = ctx.services.settings.reset_reply_seconds
    if spent < floor:
        await asyncio.sleep(floor - spent)
    return step


async def _code_or_refusal(ctx: FlowContext, intent: str) -> Step:
    words = _words(ctx)
    access = ctx.services.access
    begun = await access.begin(
        ctx.session,
        intent=intent,
        staff_id=ctx.asker.staff_id,
        email=ctx.asker.email,
        channel=ctx.incoming.channel,
        now=ctx.now,
    )
    if isinstance(begun, Refused):
        return await _refused(ctx, intent, begun)
    assert isinstance(begun, Started)
    ctx.data.update({"code_id": begun.code_id, "sent_to": begun.sent_to})
    template = CODE_SENT_FORM if ctx.incoming.forms else CODE_SENT
    text = template.format(digits=6, where=begun.sent_to, **words)
    buttons: tuple[Button, ...] = (
        Button("Send a new code", FlowAnswer(intent, "resend")),
        Button("Cancel", FlowAnswer(intent, "cancel")),
    )
    if _by_text(begun.sent_to) and changes_number(ctx.text):
        # "I've got a new mobile number": the text may go to the old one
        text = f"{text} {NEW_NUMBER.format(where=begun.sent_to)}"
        buttons = (Button("Pass it to the desk", FlowAnswer(intent, "desk")), *buttons)
    # a channel with forms (a Slack modal) offers one for the code, kept out of its history
    reply = Reply(text, buttons=buttons, kind="question", form=f"{intent}:{CODE_FORM}")
    return Step(
        (reply,),
        next="code",
        outcome="code_sent",
        details={"sent_to": begun.sent_to},
    )


async def _refused(ctx: FlowContext, intent: str, refused: Refused) -> Step:
    words = _words(ctx)
    ref = await _ticket(ctx, intent, _REASONS[refused.reason])
    template = DIRECTORY_DOWN if refused.reason == "directory_unavailable" else REFUSED
    reply = Reply(template.format(ref=ref, **words), cards=_guide(ctx, intent))
    # the reason stays out of the transcript and the reply; the audit log has it
    return Step((reply,), outcome="refused", details={"ticket": ref})


# -- a new phone -------------------------------------------------------------------------


def _move_first(ctx: FlowContext) -> Step:
    """The guide, and the reset one press (or a typed "no") away; "yes, I still have it"
    points to the guide. The conversation is free meanwhile: no flow waits."""
    kept = Button(MOVE_KEPT, FlowCommand("reset_mfa", KEPT), yes=True)
    instead = Button(MOVE_RESET, FlowCommand("reset_mfa", INSTEAD), style="primary", no=True)
    reply = Reply(MOVE_FIRST, cards=_guide(ctx, "reset_mfa"), buttons=(kept, instead))
    return Step((reply,), outcome="guide_offered")


async def on_kept(ctx: FlowContext) -> Step:
    """:data:`MOVE_KEPT`: the old phone is to hand, so the guide does it."""
    article = ctx.services.knowledge.kb.get(GUIDES["reset_mfa"])
    title = card(ctx, article).title if article is not None else "the guide"
    return Step((Reply(MOVE_WITH_GUIDE.format(title=title)),), outcome="kept_old_phone")


async def on_instead(ctx: FlowContext) -> Step:
    """:data:`MOVE_RESET` pressed: the old phone is gone, so on to the checks."""
    ctx.data.clear()
    ctx.data["intent"] = "reset_mfa"
    return await _begin(ctx, "reset_mfa")


# -- the code ------------------------------------------------------------------------------


async def on_code(ctx: FlowContext) -> Step | NotForMe:
    intent = _intent(ctx)
    press = ctx.incoming.press
    if isinstance(press, FlowAnswer):
        if press.value == "resend":
            return await _send_code(ctx, intent)
        if press.value in ("cancel", "desk"):
            await end_code(ctx.session, int(ctx.data.get("code_id", 0)), ctx.now)
        if press.value == "cancel":
            return Step((Reply(wording.CANCELLED),), outcome="cancelled")
        if press.value == "desk":  # no way to the code: the desk checks another way
            ref = await _ticket(ctx, intent, "the person can't get the code where it was sent")
            text = PASSED_ON.format(ref=ref, **_words(ctx))
            return Step((Reply(text),), outcome="passed_to_desk", details={"ticket": ref})
        return NOT_FOR_ME
    typed = _typed(ctx)
    if typed is None:
        # "I didn't get the code" answers this question: it must not start another reset
        # (the intent model hears "code" as an MFA reset)
        if "code_id" in ctx.data and asks_resend(ctx.text):
            return await _send_code(ctx, intent)
        if "code_id" in ctx.data and (says_not_arrived(ctx.text) or asks_what_code(ctx.text)):
            return _not_arrived(ctx, intent)
        if "code_id" in ctx.data and cant_get_it(ctx.text):  # not another code to that phone
            return _cant_get_it(ctx, intent)
        return NOT_FOR_ME
    words = _words(ctx)
    form = f"{intent}:{CODE_FORM}"
    if "code_id" not in ctx.data:  # a code form submitted after the flow ended
        return Step((Reply(NO_CODE_ASKED.format(**words)),), outcome="no_code_asked")
    if intent == "reset_password" and ctx.incoming.forms and not _from_form(ctx):
        # the temporary password may only be shown in the channel's form, so the typed
        # code isn't checked (no try is used): the person enters it there
        reply = Reply(USE_THE_FORM, kind="question", form=form)
        return Step((reply,), next="code", outcome="code_form_needed")
    code_id = int(ctx.data.get("code_id", 0))
    checked = await ctx.services.access.check(
        ctx.session,
        code_id=code_id,
        typed=typed,
        email=ctx.asker.email,
        intent=intent,
        channel=ctx.incoming.channel,
        now=ctx.now,
    )
    if checked.verdict == "wrong":
        tries = "try" if checked.tries_left == 1 else "tries"
        text = CODE_WRONG.format(left=checked.tries_left, tries=tries)
        reply = Reply(text, kind="question", form=form)
        return Step((reply,), next="code", outcome="code_wrong")
    if checked.verdict == "too_many_tries":
        return Step((Reply(TOO_MANY.format(**words)),), outcome="too_many_tries")
    if checked.verdict != "ok":
        buttons = (Button("Send a new code", FlowAnswer(intent, "resend"), style="primary"),)
        reply = Reply(CODE_EXPIRED, buttons=buttons, kind="question", form=form)
        return Step((reply,), next="code", outcome="code_expired")
    if intent == "reset_mfa":
        return await _ask_approval(ctx)
    return await _perform(ctx, intent)


def _from_form(ctx: FlowContext) -> bool:
    return isinstance(ctx.incoming.press, SubmitForm)


def _not_arrived(ctx: FlowContext, intent: str) -> Step:
    """Where the code went, and the ways on: a new one, or the desk if the number is old."""
    resend = Button("Send a new code", FlowAnswer(intent, "resend"), style="primary")
    return _about_the_code(ctx, intent, CODE_NOT_ARRIVED, resend)


def _cant_get_it(ctx: FlowContext, intent: str) -> Step:
    """Where the code went, and without the phone it went to, the desk (not another code)."""
    desk = Button("Pass it to the desk", FlowAnswer(intent, "desk"), style="primary")
    return _about_the_code(ctx, intent, CANT_GET_IT, desk)


def _about_the_code(ctx: FlowContext, intent: str, template: str, way_on: Button) -> Step:
    """``template`` told of the contact the code went to; ``way_on`` or Cancel, and the code
    still works meanwhile."""
    where = str(ctx.data.get("sent_to", "your contact"))
    by = BY_TEXT if _by_text(where) else BY_EMAIL
    text = template.format(where=where, **by, **_words(ctx))
    buttons = (way_on, Button("Cancel", FlowAnswer(intent, "cancel")))
    reply = Reply(text, buttons=buttons, kind="question", form=f"{intent}:{CODE_FORM}")
    return Step((reply,), next="code", outcome="code_not_arrived")


def _by_text(sent_to: str) -> bool:
    """Whether the code went by text: where it went, as the access service masks it
    ("your mobile ending 123", "your personal email s…@example.org")."""
    return sent_to.startswith("your mobile")


def _typed(ctx: FlowContext) -> str | None:
    press = ctx.incoming.press
    if isinstance(press, SubmitForm):
        return typed_code(press.values().get(CODE_FIELD, "")) or ""
    return typed_code(ctx.text)


async def _perform(ctx: FlowContext, intent: str, approved_by: str = "") -> Step:
    words = _words(ctx)
    done = await ctx.services.access.perform(
        ctx.session,
        intent=intent,
        email=ctx.asker.email,
        channel=ctx.incoming.channel,
        now=ctx.now,
        approved_by=approved_by,
    )
    if isinstance(done, Refused):
        return await _refused(ctx, intent, done)
    assert isinstance(done, Done)
    told = Reply(TOLD_CONTACT.format(where=ctx.data.get("sent_to", "your contact")))
    if intent == "reset_password":
        secret = Reply(
            PASSWORD_DONE.format(password=done.temporary, **words),
            private=True,
            kept_as=SHOWN_ONCE,
        )
        return Step((secret, told), outcome="password_reset")
    return Step((Reply(UNLOCK_DONE), told), outcome="unlocked")


async def _ask_approval(ctx: FlowContext) -> Step:
    """The code was right; removing a factor also needs an agent (see ``bot.flows.approved``)."""
    words = _words(ctx)
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    assert staff is not None
    approval = await ctx.services.desk.approvals.request(
        ctx.session,
        kind="reset_mfa",
        requester=staff,
        subject=f"Reset MFA for {staff.display_name} ({staff.email}): code checked",
        channel=ctx.incoming.channel,
        thread=ctx.incoming.thread,
        now=ctx.now,
        details={"sent_to": str(ctx.data.get("sent_to", ""))},
    )
    return Step(
        (Reply(MFA_WAITING.format(**words)),),
        outcome="approval_requested",
        details={"approval": approval.id},
    )


_REASONS = {
    "unknown_account": "no account with this email in the directory",
    "privileged": "a privileged (administrator) account: reset by the desk only",
    "unsupported": "the directory can't do this through the bot",
    "no_contact": "no alternate contact (mobile or personal email) to send a code to",
    "account_limit": "the account reached its limit of resets in 24 hours",
    "code_limit": "too many codes asked for in the last hour",
    "send_failed": "the code could not be sent",
    "directory_unavailable": "the directory could not be reached",
}


def _flow(intent: str, describe: str) -> Flow:
    code = State(
        on_code, expecting="text", waiting_for="the code we sent to {sent_to}", secret=True
    )
    states = {"code": code, f"{intent}:{CODE_FORM}": code}
    acts_on = None
    if intent == "reset_mfa":
        states[f"{intent}:{INSTEAD}"] = State(on_instead, starts_flow=True)
        states[f"{intent}:{KEPT}"] = State(on_kept)
        # "I've got a new phone" only gets the guide and a question: no "do you want to
        # reset your MFA?" first, which a "yes, I still have it" would answer wrongly
        acts_on = moves_own_phone
    return Flow(intent, frozenset({intent}), start, states, describe=describe, acts_on=acts_on)


def register(registry: FlowRegistry) -> None:
    registry.register(_flow("reset_password", "resetting your password"))
    registry.register(_flow("unlock_account", "unlocking your account"))
    registry.register(_flow("reset_mfa", "resetting your sign-in verification"))
