"""Greeting, help, thanks and goodbye: short, friendly and useful."""

from __future__ import annotations

from bot import wording
from bot.conversation.actions import Action, Ask, ChooseIntent
from bot.conversation.messages import Button, Reply
from bot.flows.base import Flow, FlowContext, FlowRegistry, Step

#: the help menu (greeting, help, the web chat's welcome, Slack's Home tab)
HELP_MENU: tuple[tuple[str, Action], ...] = (
    ("Reset my password", ChooseIntent("reset_password")),
    ("I'm locked out", ChooseIntent("unlock_account")),
    ("New phone / MFA", ChooseIntent("reset_mfa")),
    ("Raise a ticket", ChooseIntent("raise_ticket")),
    ("My tickets", ChooseIntent("ticket_status")),
    ("Share my calendar", Ask("how do I share my calendar")),
)


def help_buttons() -> tuple[Button, ...]:
    return tuple(Button(label, action) for label, action in HELP_MENU)


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
    if ctx.prediction is not None and ctx.prediction.asks_if_a_bot:
        # "is it you or a real person": said plainly, with the way to a person
        text = f"{wording.I_AM_A_BOT.format(desk=settings.desk_name)}\n\n{text}"
        person = Button("Talk to someone", ChooseIntent("talk_to_human"))
        return Step((Reply(text, buttons=(*help_buttons(), person)),), outcome="said_a_bot")
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
