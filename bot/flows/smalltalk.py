"""Greeting, help, thanks and goodbye: short, friendly and useful."""

from __future__ import annotations

from bot import wording
from bot.conversation.messages import Button, Reply
from bot.flows.base import Flow, FlowContext, FlowRegistry, Step


def help_buttons() -> tuple[Button, ...]:
    buttons = []
    for label, target in wording.HELP_MENU:
        action, _, value = target.partition(":")
        buttons.append(Button(label, action, value))
    return tuple(buttons)


def _first_name(ctx: FlowContext) -> str:
    return ctx.asker.display_name.split(" ")[0] if ctx.asker.display_name else "there"


async def greeting(ctx: FlowContext) -> Step:
    desk = ctx.services.settings.desk_name
    return Step(
        (Reply(wording.GREETING.format(name=_first_name(ctx), desk=desk), buttons=help_buttons()),),
        outcome="greeted",
    )


async def help_menu(ctx: FlowContext) -> Step:
    settings = ctx.services.settings
    text = wording.HELP_INTRO.format(desk=settings.desk_name, council=ctx.asker.council_name)
    return Step((Reply(text, buttons=help_buttons()),), outcome="helped")


async def thanks(ctx: FlowContext) -> Step:
    return Step((Reply(wording.THANKS),), outcome="thanked")


async def goodbye(ctx: FlowContext) -> Step:
    return Step((Reply(wording.GOODBYE),), outcome="said_goodbye")


def register(registry: FlowRegistry) -> None:
    registry.register(Flow("greeting", frozenset({"greeting"}), greeting))
    registry.register(Flow("help", frozenset({"help"}), help_menu))
    registry.register(Flow("thanks", frozenset({"thanks"}), thanks))
    registry.register(Flow("goodbye", frozenset({"goodbye"}), goodbye))
