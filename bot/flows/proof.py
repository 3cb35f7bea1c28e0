"""The polite refusal of a flow that shows, raises or changes tickets, for someone whose
channel has not proven who they are (a typed address in the web chat).

An unproven asker may ask questions; tickets need a proven identity, so that typing an
agent's or a colleague's address shows nobody's tickets and acts in nobody's name.
"""

from __future__ import annotations

from bot import wording
from bot.conversation.messages import Reply
from bot.flows.base import FlowContext, Step


def refuse(ctx: FlowContext, intent: str) -> Step:
    """Say what proving involves (the code emailed to them), and who else can help."""
    settings = ctx.services.settings
    council = settings.council_for_email(ctx.asker.email)
    text = wording.TICKETS_NOT_PROVEN.format(
        action=wording.action(intent),
        desk=settings.desk_name,
        contact=wording.contact(settings, council),
    )
    return Step((Reply(text),), outcome="not_proven")
