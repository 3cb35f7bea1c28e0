"""An honest reply for requests the bot can't carry out here yet.

Each intent listed here will get its own flow (resets, tickets, status, handoff);
until then the person is told plainly how to reach the service desk, and for
questions the knowledge base may still hold a guide, so one is offered.
"""

from __future__ import annotations

from bot import wording
from bot.conversation.actions import Ask
from bot.conversation.messages import Button, Reply
from bot.flows.base import Flow, FlowContext, FlowRegistry, Step

#: intents whose flows are not built yet
PENDING = frozenset({"reset_password", "unlock_account", "reset_mfa"})

#: a question about the same thing the knowledge base can answer meanwhile
RELATED_QUESTION = {
    "reset_password": "I forgot my password",
    "unlock_account": "my account is locked",
    "reset_mfa": "I have a new phone and need to move Microsoft Authenticator",
}


async def start(ctx: FlowContext) -> Step:
    intent = ctx.prediction.intent if ctx.prediction else "raise_ticket"
    settings = ctx.services.settings
    council = settings.council(ctx.asker.council)
    text = wording.NOT_YET.format(
        action=wording.action(intent),
        desk=settings.desk_name,
        contact=wording.contact(settings, council),
    )
    buttons: tuple[Button, ...] = ()
    question = RELATED_QUESTION.get(intent)
    if question:
        buttons = (Button("Show me the guide", Ask(question)),)
    return Step((Reply(text, buttons=buttons),), outcome="not_available")


def register(registry: FlowRegistry) -> None:
    registry.register(Flow("unavailable", PENDING, start, describe="your request"))
