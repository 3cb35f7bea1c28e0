"""Handing over to a person: what the desk's hours mean for the reply, right now."""

from __future__ import annotations

from bot import wording
from bot.conversation.actions import ChooseIntent
from bot.conversation.messages import Button, Reply
from bot.flows.base import FlowContext

#: what the bot can do while the desk is closed (labels as in the help menu)
WHILE_CLOSED: tuple[tuple[str, str], ...] = (
    ("Reset my password", "reset_password"),
    ("Unlock my account", "unlock_account"),
    ("My tickets", "ticket_status"),
)


def handoff_intro(ctx: FlowContext) -> tuple[Reply, ...]:
    """In hours: an agent will reply. Out of hours: when the desk is back (bank holidays and
    closure days counted), that the ticket still goes to them, and what the bot can do now."""
    desk = ctx.services.settings.desk_name
    calendar = ctx.services.desk.policy.calendar
    if calendar.is_open(ctx.now):
        return (Reply(wording.HANDOFF_INTRO.format(desk=desk)),)
    closed = wording.HANDOFF_CLOSED.format(
        desk=desk,
        closed=wording.closed_now(calendar, ctx.now),
        hours=wording.hours(calendar),
        closures=wording.closures(calendar),
        opens=wording.opening(calendar.next_opening(ctx.now), ctx.now),
    )
    now = tuple(Button(label, ChooseIntent(intent)) for label, intent in WHILE_CLOSED)
    return (Reply(closed), Reply(wording.HANDOFF_MEANWHILE, buttons=now))
