"""Handing over to a person: what the desk's hours mean for the reply, right now."""

from __future__ import annotations

import re

from bot import wording
from bot.conversation.actions import ChooseIntent
from bot.conversation.messages import Button, Reply
from bot.flows.base import FlowContext, Step

#: what the bot can do while the desk is closed (labels as in the help menu)
WHILE_CLOSED: tuple[tuple[str, str], ...] = (
    ("Reset my password", "reset_password"),
    ("Unlock my account", "unlock_account"),
    ("My tickets", "ticket_status"),
)


def _hours(ctx: FlowContext, *, closed: bool) -> dict[str, str]:
    """The desk's hours and closures in words; when it is ``closed``, also why now
    ("closed") and when it next opens ("opens")."""
    calendar = ctx.services.desk.policy.calendar
    words = {"hours": wording.hours(calendar), "closures": wording.closures(calendar)}
    if closed:
        words["closed"] = wording.closed_now(calendar, ctx.now)
        words["opens"] = wording.opening(calendar.next_opening(ctx.now), ctx.now)
    return words


def handoff_intro(ctx: FlowContext) -> tuple[Reply, ...]:
    """In hours: an agent will reply. Out of hours: when the desk is back (bank holidays and
    closure days counted), that the ticket still goes to them, and what the bot can do now."""
    desk = ctx.services.settings.desk_name
    if ctx.services.desk.policy.calendar.is_open(ctx.now):
        return (Reply(wording.HANDOFF_INTRO.format(desk=desk)),)
    closed = wording.HANDOFF_CLOSED.format(desk=desk, **_hours(ctx, closed=True))
    now = tuple(Button(label, ChooseIntent(intent)) for label, intent in WHILE_CLOSED)
    return (Reply(closed), Reply(wording.HANDOFF_MEANWHILE, buttons=now))


#: asks how to reach the desk, or when it's open ("what's the number for the ICT service
#: desk", "can I ring the service desk", "who do I call for IT", "when is the help desk open")
_ASKS_CONTACT = re.compile(
    r"\b(?:(?:phone|telephone|contact|tel) (?:number|no|details)|number|email address|"
    r"opening (?:hours|times)|open|opens|closes?|hours)\b"
    r"|\b(?:how (?:do|can|would|should) i|can i|where do i|who (?:do|should|can) i)"
    r" (?:contact|ring|phone|call|email"
    r"|reach|get in touch with)\b"
)
#: ...but not asking for someone to get in touch, or about a problem of the person's
_WANTS_A_PERSON = re.compile(
    r"\b(?:call|ring|phone|email|contact|text) me\b|\bback\b|\bmy\b|\b(?:speak|talk|chat)\b"
    r"|\b(?:someone|somebody|person|human|agent|ticket)\b"
)


def asks_how_to_reach(text: str) -> bool:
    """Whether a request for a person only asks for the desk's number, address or hours.

    >>> asks_how_to_reach("what's the number for the ICT service desk")
    True
    >>> asks_how_to_reach("can someone from IT phone me"), asks_how_to_reach("my number changed")
    (False, False)
    """
    said = text.lower().replace("\u2019", "'")
    return bool(_ASKS_CONTACT.search(said)) and not _WANTS_A_PERSON.search(said)


def desk_contact(ctx: FlowContext) -> Step:
    """The desk's number and address for the asker's council, its hours (and whether it is
    open now), with the handover one press away."""
    settings = ctx.services.settings
    closed = not ctx.services.desk.policy.calendar.is_open(ctx.now)
    hours = _hours(ctx, closed=closed)
    contact = wording.contact(settings, settings.council(ctx.asker.council))
    text = wording.DESK_CONTACT.format(desk=settings.desk_name, contact=contact, **hours)
    if closed:
        text += " " + wording.DESK_CLOSED_NOW.format(**hours)
    press = Button(wording.MESSAGE_THE_DESK, ChooseIntent("talk_to_human"), yes=True)
    return Step((Reply(text, buttons=(press,)),), outcome="desk_contact")
