"""The conversation engine: one turn from ``Incoming`` to replies, with state persisted.

>>> replies = await engine.handle(Incoming(channel="web", email="sam.taylor@dacorum.gov.uk",
...                                        text="how do I share my calendar"))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.conversation import text as texts
from bot.conversation.messages import Button, Incoming, Press, Reply
from bot.conversation.notify import take_pending
from bot.flows.base import Asker, Flow, FlowContext, FlowRegistry, Step
from bot.services import Services
from bot.storage import conversations as conversation_repo
from bot.storage import staff as staff_repo
from bot.storage.models import Conversation, utcnow
from intents import Prediction, Slots

log = logging.getLogger(__name__)

#: confidence tiers (see ``intents``: confidences are calibrated probabilities)
ACT = 0.70
CONFIRM = 0.45
OFFER = 0.15


@dataclass(slots=True)
class _State:
    flow: str | None
    step: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Scope:
    """What one turn works within: who, what they sent, the session, the clock."""

    incoming: Incoming
    asker: Asker
    session: AsyncSession
    conversation_id: int
    now: datetime


@dataclass(slots=True)
class _Outcome:
    replies: list[Reply] = field(default_factory=list)
    outcome: str = ""
    flow: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class ConversationEngine:
    """Runs one turn: who is asking, their state, the intent, a flow, the replies."""

    def __init__(
        self,
        services: Services,
        flows: FlowRegistry,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.services = services
        self.flows = flows
        self.clock = clock

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one message or button press and return the bot's replies."""
        started = time.perf_counter()
        settings = self.services.settings
        council = settings.council_for_email(incoming.email) if "@" in incoming.email else None
        if council is None:
            names = " and ".join(c.name for c in settings.councils)
            log.info("turn refused channel=%s reason=unknown-domain", incoming.channel)
            return [Reply(wording.UNKNOWN_USER.format(councils=names), kind="error")]
        text, truncated = texts.clean(incoming.text)
        now = self.clock()
        try:
            async with self.services.db.session() as session, session.begin():
                staff = await staff_repo.get_or_create(
                    session,
                    email=incoming.email,
                    council=council.key,
                    display_name=incoming.display_name,
                    slack_user_id=incoming.channel_user_id if incoming.channel == "slack" else None,
                )
                conv = await conversation_repo.load_for_update(
                    session, staff, incoming.channel, incoming.thread
                )
                asker = Asker(
                    staff_id=staff.id,
                    email=staff.email,
                    council=council.key,
                    council_name=council.name,
                    display_name=staff.display_name,
                    is_agent=staff.is_agent,
                )
                scope = _Scope(incoming, asker, session, conv.id, now)
                result, prediction = await self._turn(scope, text, conv)
                result.replies[0:0] = await take_pending(session, staff.id, incoming.channel, now)
                if truncated:
                    result.replies.insert(0, Reply(wording.TOO_LONG.format(limit=len(text))))
                await conversation_repo.add_turn(
                    session,
                    conv,
                    created_at=now,
                    user_text=texts.redact(text),
                    # a press may carry typed text (a submitted form): redacted like typed text
                    action=texts.redact(f"{incoming.press.action}:{incoming.press.value}")[:200]
                    if incoming.press
                    else None,
                    intent=prediction.intent if prediction else None,
                    confidence=prediction.confidence if prediction else None,
                    flow=result.flow,
                    outcome=result.outcome,
                    reply_text="\n".join(r.text for r in result.replies if not r.private),
                    details=result.details,
                )
        except Exception:
            log.exception("turn failed channel=%s", incoming.channel)
            return [
                Reply(
                    wording.ERROR.format(
                        desk=settings.desk_name, contact=wording.contact(settings, council)
                    ),
                    kind="error",
                )
            ]
        log.info(
            "turn channel=%s staff=%s council=%s intent=%s confidence=%s flow=%s outcome=%s "
            "articles=%s ms=%.1f",
            incoming.channel,
            asker.staff_id,
            asker.council,
            prediction.intent if prediction else "-",
            f"{prediction.confidence:.2f}" if prediction else "-",
            result.flow or "-",
            result.outcome or "-",
            ",".join(result.details.get("articles", [])) or "-",
            (time.perf_counter() - started) * 1000,
        )
        return result.replies

    # -- one turn -------------------------------------------------------------------------

    async def _turn(
        self, scope: _Scope, text: str, conv: Conversation
    ) -> tuple[_Outcome, Prediction | None]:
        incoming, now = scope.incoming, scope.now
        state = _State(conv.flow, conv.step, dict(conv.data or {}))
        out = _Outcome()
        self._expire(state, conv, now, out)
        press = incoming.press
        if press is not None and press.action == "ask":
            text, _ = texts.clean(press.value)
            press = None
        prediction: Prediction | None = None
        if press is not None:
            await self._press(press, scope, state, out)
        elif not text:
            out.replies.append(Reply(wording.EMPTY_MESSAGE))
            out.outcome = "empty"
        else:
            prediction = await self._predict(text, state)
            await self._text(text, prediction, scope, state, out)
        conversation_repo.save_state(
            conv, flow=state.flow, step=state.step, data=state.data, now=now
        )
        return out, prediction

    def _expire(self, state: _State, conv: Conversation, now: datetime, out: _Outcome) -> None:
        if state.flow is None or state.step is None:
            return
        minutes = self.services.settings.flow_timeout_minutes
        if now - conv.updated_at <= timedelta(minutes=minutes):
            return
        flow = self.flows.get(state.flow)
        step = state.step
        waiting = flow.states[step].waiting_for if flow and step in flow.states else ""
        out.replies.append(
            Reply(wording.TIMED_OUT.format(waiting_for=waiting or "your answer", minutes=minutes))
        )
        out.details["timed_out"] = state.flow
        self._clear(state)

    async def _predict(self, text: str, state: _State) -> Prediction:
        context: dict[str, str] = {}
        flow = self.flows.get(state.flow) if state.flow else None
        step = state.step
        if flow is not None and step is not None and step in flow.states:
            context["expecting"] = flow.states[step].expecting
            context["flow"] = flow.name
        # in a worker thread: with the embedding model this encodes the message
        return await asyncio.to_thread(self.services.detector.detect, text, context)

    async def _text(
        self,
        text: str,
        prediction: Prediction,
        scope: _Scope,
        state: _State,
        out: _Outcome,
    ) -> None:
        if texts.is_cancel(text):
            self._cancel(state, out)
            return
        pending_switch = state.data.pop("_switch", None)
        if isinstance(pending_switch, dict):
            answer = texts.yes_no(text)
            if answer is True:
                self._clear(state)
                intent = str(pending_switch.get("intent"))
                switched = _synthetic(intent, prediction.slots)
                ctx = self._ctx(scope, switched, {}, str(pending_switch["text"]))
                await self._start_intent(intent, ctx, state, out)
                return
            if answer is False:
                self._reprompt(state, out, wording.SWITCH_KEEP)
                return
        if state.flow is not None and state.step is not None:
            flow = self.flows.get(state.flow)
            if flow is not None and state.step in flow.states:
                ctx = self._ctx(scope, prediction, state.data, text)
                result = await flow.states[state.step].handler(ctx)
                if isinstance(result, Step):
                    await self._apply(flow, result, ctx, state, out)
                    return
                if prediction.intent == "cancel" and prediction.confidence >= CONFIRM:
                    self._cancel(state, out)
                    return
                new_flow = self.flows.for_intent(prediction.intent)
                if not flow.interruptible:
                    if (
                        new_flow is not None
                        and new_flow.name != flow.name
                        and prediction.confidence >= ACT
                    ):
                        state.data["_switch"] = {"intent": prediction.intent, "text": text}
                        out.replies.append(
                            Reply(
                                wording.SWITCH.format(
                                    current=flow.describe or wording.action(flow.name),
                                    new=wording.action(prediction.intent),
                                ),
                                buttons=_yes_no("switch"),
                                kind="question",
                            )
                        )
                        out.outcome = "confirm_switch"
                        out.flow = flow.name
                        return
                    self._reprompt(state, out, "{waiting_for}")
                    return
            self._clear(state)
        if prediction.intent == "cancel" and prediction.confidence >= CONFIRM:
            self._cancel(state, out)
            return
        await self._route(text, prediction, scope, state, out)

    async def _route(
        self,
        text: str,
        prediction: Prediction,
        scope: _Scope,
        state: _State,
        out: _Outcome,
    ) -> None:
        ctx = self._ctx(scope, prediction, {}, text)
        intent, confidence = prediction.intent, prediction.confidence
        if intent in {"question", "out_of_scope"} or confidence >= ACT:
            await self._start_intent(intent, ctx, state, out)
            return
        if confidence >= CONFIRM and self.flows.for_intent(intent) is not None:
            state.flow, state.step = "clarify", "confirm"
            state.data = {"intent": intent, "text": text}
            out.replies.append(
                Reply(
                    wording.CONFIRM_INTENT.format(action=wording.action(intent)),
                    buttons=_yes_no("flow:clarify"),
                    kind="question",
                )
            )
            out.outcome, out.flow = "confirm_intent", "clarify"
            return
        options = [
            name
            for name, score in [(intent, confidence), *prediction.alternatives]
            if score >= OFFER and name not in {"question", "out_of_scope", "cancel"}
        ][:3]
        if len(options) >= 2:
            buttons = [Button(wording.action(o).capitalize(), "intent", o) for o in options]
            buttons.append(Button("Something else", "ask", text))
            state.data = {"text": text}
            out.replies.append(
                Reply(wording.OFFER_INTENTS, buttons=tuple(buttons), kind="question")
            )
            out.outcome, out.flow = "offer_intents", None
            return
        await self._start_intent("question", ctx, state, out)

    async def _press(
        self,
        press: Press,
        scope: _Scope,
        state: _State,
        out: _Outcome,
    ) -> None:
        if press.action == "intent":
            self._clear(state)
            # text sent with the press (a Slack message shortcut) is what the flow works on
            text, _ = texts.clean(scope.incoming.text)
            ctx = self._ctx(scope, _synthetic(press.value), {}, text)
            await self._start_intent(press.value, ctx, state, out)
            return
        if press.action == "switch":
            pending = state.data.pop("_switch", None)
            if press.value == "yes" and isinstance(pending, dict):
                self._clear(state)
                intent = str(pending.get("intent"))
                text = str(pending.get("text", ""))
                ctx = self._ctx(scope, _synthetic(intent), {}, text)
                await self._start_intent(intent, ctx, state, out)
            else:
                self._reprompt(state, out, wording.SWITCH_KEEP)
            return
        global_flow = self.flows.get(press.action.partition(":")[0])
        if global_flow is not None and press.action in _global_actions(global_flow):
            ctx = self._ctx(scope, None, {}, press.value)
            handler = global_flow.states[press.action]
            result = await handler.handler(ctx)
            if isinstance(result, Step) and handler.starts_flow:
                # e.g. a submitted form: the flow starts afresh and may wait for an answer
                self._clear(state)
                await self._apply(global_flow, result, ctx, state, out)
                return
            if isinstance(result, Step):
                out.replies.extend(result.replies)
                out.outcome, out.flow = result.outcome, global_flow.name
                out.details.update(result.details)
            return
        flow_name = press.action.removeprefix("flow:")
        if press.action.startswith("flow:") and state.flow == flow_name and state.step:
            flow = self.flows.get(flow_name)
            if flow is not None and state.step in flow.states:
                ctx = self._ctx(scope, None, state.data, press.value)
                result = await flow.states[state.step].handler(ctx)
                if isinstance(result, Step):
                    await self._apply(flow, result, ctx, state, out)
                    return
                self._reprompt(state, out, wording.PLEASE_ANSWER_BUTTONS)
                return
        out.replies.append(
            Reply(
                "That button belongs to an earlier conversation. "
                + wording.EMPTY_MESSAGE.split(". ", 1)[1]
            )
        )
        out.outcome = "stale_button"

    # -- helpers --------------------------------------------------------------------------

    async def _start_intent(
        self, intent: str, ctx: FlowContext, state: _State, out: _Outcome
    ) -> None:
        flow = self.flows.for_intent(intent) or self.flows.for_intent("question")
        if flow is None:
            raise LookupError("no flow answers questions; register the answer flow")
        step = await flow.start(ctx)
        await self._apply(flow, step, ctx, state, out)

    async def _apply(
        self, flow: Flow, step: Step, ctx: FlowContext, state: _State, out: _Outcome
    ) -> None:
        out.replies.extend(step.replies)
        out.outcome = step.outcome or out.outcome
        out.flow = flow.name
        out.details.update(step.details)
        if step.handoff is not None:
            self._clear(state)
            slots = ctx.prediction.slots if ctx.prediction else None
            ctx.prediction = _synthetic(step.handoff, slots)
            ctx.data = {}
            await self._start_intent(step.handoff, ctx, state, out)
        elif step.next is None:
            self._clear(state)
        else:
            if step.next not in flow.states:
                raise LookupError(f"flow {flow.name} has no state {step.next!r}")
            state.flow, state.step, state.data = flow.name, step.next, ctx.data

    def _reprompt(self, state: _State, out: _Outcome, template: str) -> None:
        flow = self.flows.get(state.flow) if state.flow else None
        waiting = ""
        buttons: tuple[Button, ...] = ()
        step = state.step
        if flow is not None and step is not None and step in flow.states:
            waiting = f"I'm waiting for {flow.states[step].waiting_for}."
            if flow.states[step].expecting == "yes_no":
                buttons = _yes_no(f"flow:{flow.name}")
        out.replies.append(
            Reply(
                template.format(waiting_for=waiting).strip() or wording.PLEASE_ANSWER_BUTTONS,
                buttons=buttons,
                kind="question",
            )
        )
        out.outcome = "reprompt"
        out.flow = state.flow

    def _cancel(self, state: _State, out: _Outcome) -> None:
        had_flow = state.flow is not None
        self._clear(state)
        out.replies.append(Reply(wording.CANCELLED if had_flow else wording.NOTHING_TO_CANCEL))
        out.outcome = "cancelled" if had_flow else "nothing_to_cancel"

    @staticmethod
    def _clear(state: _State) -> None:
        state.flow, state.step, state.data = None, None, {}

    def _ctx(
        self,
        scope: _Scope,
        prediction: Prediction | None,
        data: dict[str, Any],
        text: str,
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
        )


def _synthetic(intent: str, slots: Slots | None = None) -> Prediction:
    """The prediction a button press stands for: the person chose it, so certainty."""
    return Prediction(
        intent=intent,
        confidence=1.0,
        slots=slots if slots is not None else Slots(),
        alternatives=(),
        reasons=("chosen by the person",),
    )


def _yes_no(action: str) -> tuple[Button, ...]:
    return (Button("Yes", action, "yes", style="primary"), Button("No", action, "no"))


def _global_actions(flow: Flow) -> frozenset[str]:
    """States of ``flow`` named ``<flow>:<verb>`` answer button presses at any time."""
    return frozenset(name for name in flow.states if name.startswith(f"{flow.name}:"))
