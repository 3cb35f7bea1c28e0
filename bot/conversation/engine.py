"""The conversation engine: one turn from ``Incoming`` to replies, with state persisted.

>>> replies = await engine.handle(Incoming(channel="web", email="sam.taylor@dacorum.gov.uk",
...                                        text="how do I share my calendar"))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot import wording
from bot.conversation import text as texts
from bot.conversation.actions import (
    Action,
    Ask,
    ChooseIntent,
    FlowAnswer,
    SubmitForm,
    encode_action,
)
from bot.conversation.messages import Button, Incoming, Reply
from bot.conversation.notify import take_pending
from bot.conversation.presses import press as handle_press
from bot.conversation.runner import FlowRunner, Outcome, Scope, yes_no_buttons
from bot.conversation.state import ConversationState
from bot.conversation.switch import answer_switch, offer_switch
from bot.flows.base import Asker, FlowRegistry, Step
from bot.redaction import redact
from bot.services import Services
from bot.storage import conversations as conversation_repo
from bot.storage import staff as staff_repo
from bot.storage.models import Conversation, utcnow
from intents import Prediction

log = logging.getLogger(__name__)

#: what the transcript keeps of a typed answer to a secret state (a one-time code)
SECRET_ANSWER = "[one-time code]"  # noqa: S105 - a placeholder, not a password

#: confidence tiers (see ``intents``: confidences are calibrated probabilities)
ACT = 0.70
CONFIRM = 0.45
OFFER = 0.15


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
        self.runner = FlowRunner(services, flows)

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
        incoming = dataclasses.replace(incoming, text=text)
        secrets: tuple[str, ...] = ()
        now = self.clock()
        try:
            async with self.services.db.session() as session, session.begin():
                staff = await staff_repo.get_or_create(
                    session,
                    email=incoming.email,
                    council=council.key,
                    display_name=incoming.display_name,
                )
                conv = await conversation_repo.load_for_update(
                    session, staff, incoming.channel, incoming.thread
                )
                # the one redaction step for what people send: nothing below sees a typed
                # secret, but for the code a reset asked for (kept as a placeholder instead)
                state = ConversationState.load(conv)
                if not self._answers_secret(state, incoming.press, text):
                    incoming, secrets = texts.without_secrets(incoming)
                    text = incoming.text
                asker = Asker(
                    staff_id=staff.id,
                    email=staff.email,
                    council=council.key,
                    council_name=council.name,
                    display_name=staff.display_name,
                    is_agent=staff.is_agent and incoming.proven,
                    proven=incoming.proven,
                )
                scope = Scope(incoming, asker, session, conv.id, now)
                result, prediction = await self._turn(scope, text, conv)
                result.replies[0:0] = await take_pending(session, staff.id, incoming.channel, now)
                if truncated:
                    result.replies.insert(0, Reply(wording.TOO_LONG.format(limit=len(text))))
                if secrets:
                    result.replies.append(Reply(wording.REDACTED_NOTE))
                    result.details["secrets_removed"] = list(secrets)
                await conversation_repo.add_turn(
                    session,
                    conv,
                    created_at=now,
                    user_text=SECRET_ANSWER if result.secret_answer else redact(text),
                    # a press may carry typed text (a submitted form): redacted like typed text
                    action=_kept_action(incoming.press, result.secret_answer),
                    intent=prediction.intent if prediction else None,
                    confidence=prediction.confidence if prediction else None,
                    flow=result.flow,
                    outcome=result.outcome,
                    reply_text="\n".join(
                        (r.kept_as if r.private else r.text) for r in result.replies
                    ),
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
        self, scope: Scope, text: str, conv: Conversation
    ) -> tuple[Outcome, Prediction | None]:
        state = ConversationState.load(conv)
        out = Outcome()
        out.secret_answer = self._answers_secret(state, scope.incoming.press, text)
        self._expire(state, conv, scope.now, out)
        pending = state.take_switch()  # only this turn may answer it
        press = scope.incoming.press
        if isinstance(press, Ask):
            text, _ = texts.clean(press.text)
            press = None
        prediction: Prediction | None = None
        if press is not None:
            await handle_press(self.runner, press, pending, scope, state, out)
        elif not text:
            out.replies.append(Reply(wording.EMPTY_MESSAGE))
            out.outcome = "empty"
        else:
            prediction = await self._predict(text, state)
            answer = texts.yes_no(text) if pending is not None else None
            if texts.is_cancel(text):
                self.runner.cancel(state, out)
            elif answer is not None:
                await answer_switch(
                    self.runner, pending, answer, scope, state, out, slots=prediction.slots
                )
            else:
                await self._text(text, prediction, scope, state, out)
        state.save(conv, scope.now)
        return out, prediction

    def _answers_secret(self, state: ConversationState, press: Action | None, text: str) -> bool:
        """Whether this turn answers a secret state (a code typed, or a code form)."""
        if isinstance(press, SubmitForm):
            flow = self.flows.get(press.flow)
            found = flow.states.get(press.state) if flow is not None else None
            return found is not None and found.secret
        waiting = self.runner.waiting_flow(state)
        if press is not None or waiting is None or state.step is None:
            return False
        return waiting.states[state.step].secret and texts.has_digits(text)

    def _expire(
        self, state: ConversationState, conv: Conversation, now: datetime, out: Outcome
    ) -> None:
        if not state.waiting:
            return
        minutes = self.services.settings.flow_timeout_minutes
        if now - conv.updated_at <= timedelta(minutes=minutes):
            return
        flow = self.runner.waiting_flow(state)
        waiting = flow.states[state.step].waiting_for if flow and state.step else ""
        out.replies.append(
            Reply(wording.TIMED_OUT.format(waiting_for=waiting or "your answer", minutes=minutes))
        )
        out.details["timed_out"] = state.flow
        state.clear()

    async def _predict(self, text: str, state: ConversationState) -> Prediction:
        context: dict[str, str] = {}
        flow = self.runner.waiting_flow(state)
        if flow is not None and state.step is not None:
            context["expecting"] = flow.states[state.step].expecting
            context["flow"] = flow.name
        # in a worker thread: with the embedding model this encodes the message
        return await asyncio.to_thread(self.services.detector.detect, text, context)

    async def _text(
        self,
        text: str,
        prediction: Prediction,
        scope: Scope,
        state: ConversationState,
        out: Outcome,
    ) -> None:
        """Typed text: an answer to the waiting flow, a way out of it, or a new request."""
        runner = self.runner
        if state.waiting:
            flow = runner.waiting_flow(state)
            if flow is not None and state.step is not None:
                ctx = runner.context(scope, prediction, state.data, text)
                result = await flow.states[state.step].handler(ctx)
                if isinstance(result, Step):
                    await runner.apply(flow, result, ctx, state, out)
                    return
                if prediction.intent == "cancel" and prediction.confidence >= CONFIRM:
                    runner.cancel(state, out)
                    return
                if not flow.interruptible:
                    new_flow = self.flows.for_intent(prediction.intent)
                    if (
                        new_flow is not None
                        and new_flow.name != flow.name
                        and prediction.confidence >= ACT
                    ):
                        offer_switch(flow, prediction.intent, text, state, out)
                        return
                    runner.reprompt(state, out, "{waiting_for}")
                    return
            state.clear()
        if prediction.intent == "cancel" and prediction.confidence >= CONFIRM:
            runner.cancel(state, out)
            return
        await self._route(text, prediction, scope, state, out)

    async def _route(
        self,
        text: str,
        prediction: Prediction,
        scope: Scope,
        state: ConversationState,
        out: Outcome,
    ) -> None:
        """A new request: act on it, check first, offer a choice, or search the guides."""
        ctx = self.runner.context(scope, prediction, {}, text)
        intent, confidence = prediction.intent, prediction.confidence
        if intent in {"question", "out_of_scope"} or confidence >= ACT:
            await self.runner.start_intent(intent, ctx, state, out)
            return
        if confidence >= CONFIRM and self.flows.for_intent(intent) is not None:
            state.flow, state.step = "clarify", "confirm"
            state.data = {"intent": intent, "text": text}
            out.replies.append(
                Reply(
                    wording.CONFIRM_INTENT.format(action=wording.action(intent)),
                    buttons=yes_no_buttons(
                        FlowAnswer("clarify", "yes"), FlowAnswer("clarify", "no")
                    ),
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
            buttons = [Button(wording.action(o).capitalize(), ChooseIntent(o)) for o in options]
            buttons.append(Button("Something else", Ask(text)))
            state.data = {"text": text}
            out.replies.append(
                Reply(wording.OFFER_INTENTS, buttons=tuple(buttons), kind="question")
            )
            out.outcome, out.flow = "offer_intents", None
            return
        await self.runner.start_intent("question", ctx, state, out)


def _kept_action(press: Action | None, secret: bool) -> str | None:
    """A press as the transcript keeps it: a form's typed text redacted, a code form's
    fields not at all."""
    if press is None:
        return None
    if secret and isinstance(press, SubmitForm):
        press = SubmitForm(press.flow, press.verb)
    return redact(encode_action(press))[:200]
