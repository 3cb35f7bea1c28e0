"""Running flows over the conversation state: start one, apply a step, ask again, cancel.

The engine decides *what* a turn means (typed text, a press, a pending question); the
:class:`FlowRunner` does the moves every path shares, writing replies into an
:class:`Outcome` and the new position into the :class:`~bot.conversation.state.ConversationState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.conversation.actions import Action, FlowAnswer
from bot.conversation.messages import Button, Incoming, Reply
from bot.conversation.state import ConversationState
from bot.flows.base import Asker, Flow, FlowContext, FlowRegistry, Step
from bot.services import Services
from intents import Prediction, Slots


@dataclass(frozen=True, slots=True)
class Scope:
    """What one turn works within: who, what they sent, the session, the clock."""

    incoming: Incoming
    asker: Asker
    session: AsyncSession
    conversation_id: int
    now: datetime


@dataclass(slots=True)
class Outcome:
    """What one turn did: the replies, and the facts for the transcript and the log line."""

    replies: list[Reply] = field(default_factory=list)
    outcome: str = ""
    flow: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: what the person typed answered a secret state (a code): kept as a placeholder
    secret_answer: bool = False


class FlowRunner:
    """The moves every turn shares, over one registry of flows."""

    def __init__(self, services: Services, flows: FlowRegistry) -> None:
        self.services = services
        self.flows = flows

    def waiting_flow(self, state: ConversationState) -> Flow | None:
        """The flow the conversation waits in, if it still has that state."""
        flow = self.flows.get(state.flow) if state.flow else None
        if flow is None or state.step is None or state.step not in flow.states:
            return None
        return flow

    def context(
        self,
        scope: Scope,
        prediction: Prediction | None,
        data: dict[str, Any],
        text: str,
        *,
        new_request: bool = False,
    ) -> FlowContext:
        return FlowContext(
            incoming=scope.incoming,
            asker=scope.asker,
            services=self.services,
            prediction=prediction,
            data=data,
            now=scope.now,
            session=scope.session,
            conversation_id=scope.conversation_id,
            text=text,
            new_request=new_request,
        )

    async def start_intent(
        self, intent: str, ctx: FlowContext, state: ConversationState, out: Outcome
    ) -> None:
        flow = self.flows.for_intent(intent) or self.flows.for_intent("question")
        if flow is None:
            raise LookupError("no flow answers questions; register the answer flow")
        step = await flow.start(ctx)
        await self.apply(flow, step, ctx, state, out)

    async def apply(
        self, flow: Flow, step: Step, ctx: FlowContext, state: ConversationState, out: Outcome
    ) -> None:
        out.replies.extend(step.replies)
        out.outcome = step.outcome or out.outcome
        out.flow = flow.name
        out.details.update(step.details)
        if step.handoff is not None:
            state.clear()
            slots = ctx.prediction.slots if ctx.prediction else None
            ctx.prediction = chosen(step.handoff, slots)
            ctx.data = {}
            await self.start_intent(step.handoff, ctx, state, out)
        elif step.next is None:
            state.clear()
        else:
            if step.next not in flow.states:
                raise LookupError(f"flow {flow.name} has no state {step.next!r}")
            state.flow, state.step, state.data = flow.name, step.next, ctx.data
            # the buttons of the question it now waits on, to show again with a reminder
            state.asked = tuple(b for r in step.replies for b in r.buttons)

    def reprompt(
        self, state: ConversationState, out: Outcome, template: str, *, how: bool = False
    ) -> None:
        """Ask the waiting question again (``template`` around "I'm waiting for …"); ``how``:
        after an answer that wasn't understood, also say how to answer or get out."""
        flow = self.waiting_flow(state)
        waiting = ""
        buttons: tuple[Button, ...] = ()
        if flow is not None and state.step is not None:
            waiting = f"I'm waiting for {flow.states[state.step].waiting(state.data)}."
            if how:
                waiting += " " + wording.REPROMPT_HOW[flow.states[state.step].expecting]
            if state.asked:
                buttons = state.asked
            elif flow.states[state.step].expecting == "yes_no":
                buttons = yes_no_buttons(FlowAnswer(flow.name, "yes"), FlowAnswer(flow.name, "no"))
        out.replies.append(
            Reply(
                template.format(waiting_for=waiting).strip() or wording.PLEASE_ANSWER_BUTTONS,
                buttons=buttons,
                kind="question",
            )
        )
        out.outcome = "reprompt"
        out.flow = state.flow

    @staticmethod
    def cancel(state: ConversationState, out: Outcome) -> None:
        had_flow = state.flow is not None or state.parked is not None
        state.clear()
        state.parked = None
        out.replies.append(Reply(wording.CANCELLED if had_flow else wording.NOTHING_TO_CANCEL))
        out.outcome = "cancelled" if had_flow else "nothing_to_cancel"

    @staticmethod
    def stale(out: Outcome) -> None:
        """A press that no longer means anything here: say so, change nothing."""
        out.replies.append(Reply(wording.STALE_BUTTON))
        out.outcome = "stale_button"


def chosen(intent: str, slots: Slots | None = None) -> Prediction:
    """The prediction a choice stands for: the person chose it, so certainty."""
    return Prediction(
        intent=intent,
        confidence=1.0,
        slots=slots if slots is not None else Slots(),
        alternatives=(),
        reasons=("chosen by the person",),
    )


def yes_no_buttons(yes: Action, no: Action) -> tuple[Button, ...]:
    return (Button("Yes", yes, style="primary"), Button("No", no))
