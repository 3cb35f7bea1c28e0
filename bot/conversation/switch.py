"""Leaving a flow for another request: "We're in the middle of ... Do you want to stop?".

A flow that may not be interrupted (raising a ticket) asks first; the question is a
:class:`~bot.conversation.state.PendingSwitch` in the conversation state, answered by the
very next turn: a Yes/No press or a typed yes/no, both handled by :func:`answer_switch`.
"""

from __future__ import annotations

from bot import wording
from bot.conversation.actions import ConfirmSwitch
from bot.conversation.messages import Reply
from bot.conversation.runner import FlowRunner, Outcome, Scope, chosen, yes_no_buttons
from bot.conversation.state import ConversationState, PendingSwitch
from bot.flows.base import Flow
from intents import Slots


def offer_switch(
    flow: Flow, intent: str, text: str, state: ConversationState, out: Outcome
) -> None:
    """Ask whether to leave ``flow`` for ``intent`` (asked for in ``text``)."""
    state.pending_switch = PendingSwitch(intent, text)
    out.replies.append(
        Reply(
            wording.SWITCH.format(
                current=flow.describe or wording.action(flow.name),
                new=wording.action(intent),
            ),
            buttons=yes_no_buttons(ConfirmSwitch(True), ConfirmSwitch(False)),
            kind="question",
        )
    )
    out.outcome = "confirm_switch"
    out.flow = flow.name


async def answer_switch(
    runner: FlowRunner,
    pending: PendingSwitch | None,
    yes: bool,
    scope: Scope,
    state: ConversationState,
    out: Outcome,
    *,
    slots: Slots | None = None,
) -> None:
    """Yes: start what they asked for instead. No (or nothing pending): carry on."""
    if yes and pending is not None:
        state.clear()
        ctx = runner.context(scope, chosen(pending.intent, slots), {}, pending.text)
        await runner.start_intent(pending.intent, ctx, state, out)
        return
    runner.reprompt(state, out, wording.SWITCH_KEEP)
