"""Asking before acting: "Do you want to reset your password?" Yes / No."""

from __future__ import annotations

from bot import wording
from bot.conversation import text as texts
from bot.conversation.messages import Reply
from bot.conversation.state import slots_from_json
from bot.flows.base import NOT_FOR_ME, Flow, FlowContext, FlowRegistry, NotForMe, State, Step
from intents import Prediction

NAME = "clarify"


async def _never_started(ctx: FlowContext) -> Step:
    raise LookupError("the clarify flow is started by the engine, not by an intent")


async def confirm(ctx: FlowContext) -> Step | NotForMe:
    answer = texts.yes_no(ctx.text)
    if answer is None:
        return NOT_FOR_ME
    if not answer:
        return Step((Reply(wording.CONFIRM_NO),), outcome="confirm_no")
    intent = str(ctx.data.get("intent", "question"))
    ctx.text = str(ctx.data.get("text", ""))
    slots = slots_from_json(ctx.data.get("slots"))
    if slots is not None:
        # the flow starts from the message asked about (its product, its colleague...),
        # whether the yes was typed or pressed
        ctx.prediction = Prediction(intent, 1.0, slots)
    return Step((), outcome="confirmed", handoff=intent)


def register(registry: FlowRegistry) -> None:
    registry.register(
        Flow(
            name=NAME,
            intents=frozenset(),
            start=_never_started,
            states={"confirm": State(confirm, expecting="yes_no", waiting_for="a yes or no")},
            describe="checking what you need",
            # nothing to lose: a new request simply replaces the question
            interruptible=True,
        )
    )
