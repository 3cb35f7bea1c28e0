"""What a button press (or a submitted form) does, by the type of its action.

``Ask`` is not here: it stands for typed text, so the engine treats it as text.
"""

from __future__ import annotations

from bot import wording
from bot.conversation import text as texts
from bot.conversation.actions import (
    Action,
    Ask,
    ChooseIntent,
    ConfirmSwitch,
    FlowAnswer,
    FlowCommand,
    SubmitForm,
)
from bot.conversation.runner import FlowRunner, Outcome, Scope, chosen
from bot.conversation.state import ConversationState, PendingSwitch, slots_from_json
from bot.conversation.switch import answer_switch
from bot.flows.base import Step


async def press(
    runner: FlowRunner,
    action: Action,
    pending: PendingSwitch | None,
    scope: Scope,
    state: ConversationState,
    out: Outcome,
) -> None:
    """Carry out ``action``; ``pending`` is the switch question this turn may answer."""
    match action:
        case ChooseIntent(intent):
            # one of the intents offered for a message ("Is it one of these?") starts from
            # that message: "priya can't log in" is still about a colleague
            offer = state.data if state.flow is None else {}
            offered = intent in offer.get("offered", ())
            slots = slots_from_json(offer.get("slots")) if offered else None
            state.clear()
            # text sent with the press (a message shortcut) is what the flow works on
            text, _ = texts.clean(scope.incoming.text)
            if not text and slots is not None:
                text = str(offer.get("text") or "")
            ctx = runner.context(scope, chosen(intent, slots), {}, text)
            await runner.start_intent(intent, ctx, state, out)
        case ConfirmSwitch(yes):
            await answer_switch(runner, pending, yes, scope, state, out)
        case FlowCommand() | SubmitForm():
            await _command(runner, action, scope, state, out)
        case FlowAnswer(flow_name, value):
            await _answer(runner, flow_name, value, scope, state, out)
        case Ask():
            raise ValueError("an Ask press is typed text: the engine handles it as text")


async def _command(
    runner: FlowRunner,
    action: FlowCommand | SubmitForm,
    scope: Scope,
    state: ConversationState,
    out: Outcome,
) -> None:
    """A ``<flow>:<verb>`` state of a flow answers this press at any time."""
    flow = runner.flows.get(action.flow)
    handler = flow.states.get(action.state) if flow is not None else None
    if flow is None or handler is None:
        runner.stale(out)
        return
    value = action.value if isinstance(action, FlowCommand) else ""
    if not handler.starts_flow and runner.waiting_flow(state) is flow:
        # it answers the flow the conversation waits in (a code form): with that flow's
        # data, and its step moves the conversation on like a typed answer would
        ctx = runner.context(scope, None, state.data, value)
        result = await handler.handler(ctx)
        if isinstance(result, Step):
            await runner.apply(flow, result, ctx, state, out)
        else:
            runner.reprompt(state, out, "{waiting_for}")
        return
    ctx = runner.context(scope, None, {}, value)
    result = await handler.handler(ctx)
    if isinstance(result, Step) and handler.starts_flow:
        # e.g. a submitted form: the flow starts afresh and may wait for an answer
        state.clear()
        await runner.apply(flow, result, ctx, state, out)
    elif isinstance(result, Step) and result.next and runner.waiting_flow(state) is None:
        # nothing waits: the press's step may listen for what comes next (a guide's No)
        await runner.apply(flow, result, ctx, state, out)
    elif isinstance(result, Step):
        out.replies.extend(result.replies)
        out.outcome, out.flow = result.outcome, flow.name
        out.details.update(result.details)


async def _answer(
    runner: FlowRunner,
    flow_name: str,
    value: str,
    scope: Scope,
    state: ConversationState,
    out: Outcome,
) -> None:
    """An option of the question the conversation waits on (else the button is stale)."""
    flow = runner.waiting_flow(state)
    if flow is None or flow.name != flow_name or state.step is None:
        runner.stale(out)
        return
    ctx = runner.context(scope, None, state.data, value)
    result = await flow.states[state.step].handler(ctx)
    if isinstance(result, Step):
        await runner.apply(flow, result, ctx, state, out)
        return
    runner.reprompt(state, out, wording.PLEASE_ANSWER_BUTTONS)
