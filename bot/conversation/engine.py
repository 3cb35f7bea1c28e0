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

from bot import logs, wording
from bot.conversation import history, parking
from bot.conversation import text as texts
from bot.conversation.actions import (
    Action,
    Ask,
    ChooseIntent,
    FlowAnswer,
    Resume,
    SubmitForm,
)
from bot.conversation.messages import Button, Incoming, Reply
from bot.conversation.notify import take_pending
from bot.conversation.outcomes import count_turn, failed, measure
from bot.conversation.presses import press as handle_press
from bot.conversation.runner import FlowRunner, Outcome, Scope, yes_no_buttons
from bot.conversation.state import ConversationState, slots_to_json
from bot.conversation.switch import answer_switch, offer_switch
from bot.flows import followup
from bot.flows.base import Asker, Flow, FlowContext, FlowRegistry, Step
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

#: intents that are never a new request in the middle of something (said in passing)
_IN_PASSING = frozenset({"out_of_scope", "cancel", "greeting", "thanks", "goodbye"})


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

    @logs.turn  # every record logged in the turn carries its id, channel, council, ticket
    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one message or button press and return the bot's replies."""
        started = time.perf_counter()
        settings = self.services.settings
        council = settings.council_for_email(incoming.email) if "@" in incoming.email else None
        if council is None:
            log.info("turn refused channel=%s reason=unknown-domain", incoming.channel)
            return [Reply(wording.unknown_user(settings), kind="error")]
        logs.update(council=council.key)
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
                result, prediction, state = await self._turn(scope, text, conv)
                # ticket news only for someone proven to be its requester, where only they see it
                if incoming.proven and incoming.personal:
                    result.replies[0:0] = await take_pending(session, staff.id, now)
                # every button shown this turn, in the order channels number them
                state.offered = tuple(b for r in result.replies for b in r.buttons)
                state.save(conv, now)
                if truncated:
                    result.replies.insert(0, Reply(wording.TOO_LONG.format(limit=len(text))))
                if secrets:
                    result.replies.append(Reply(wording.REDACTED_NOTE))
                    result.details["secrets_removed"] = list(secrets)
                await conversation_repo.add_turn(
                    session,
                    conv,
                    created_at=now,
                    user_text=SECRET_ANSWER
                    if result.secret_answer
                    else history.kept_text(text, result.details.get("typed_button")),
                    # a press may carry typed text (a submitted form): redacted like typed text
                    action=history.kept_action(incoming.press, result.secret_answer),
                    intent=prediction.intent if prediction else None,
                    confidence=prediction.confidence if prediction else None,
                    flow=result.flow,
                    outcome=result.outcome,
                    reply_text="\n".join(
                        (r.kept_as if r.private else r.text) for r in result.replies
                    ),
                    details={**result.details, history.REPLIES: history.kept(result.replies)},
                )
                await count_turn(self.services, scope, result, prediction)
        except Exception as error:
            failed(self.services, incoming.channel, error)  # logged with its traceback, and counted
            return [
                Reply(
                    wording.ERROR.format(
                        desk=settings.desk_name, contact=wording.contact(settings, council)
                    ),
                    kind="error",
                )
            ]
        measure(self.services, incoming.channel, result, prediction)  # for /metrics
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
    ) -> tuple[Outcome, Prediction | None, ConversationState]:
        state = ConversationState.load(conv)
        out = Outcome()
        out.secret_answer = self._answers_secret(state, scope.incoming.press, text)
        self._expire(state, conv, scope.now, out)
        pending = state.take_switch()  # only this turn may answer it
        parked = state.parked
        press = scope.incoming.press
        if press is None and parked is not None and parked.offered and not state.waiting:
            # the last question asked was whether to carry on: a typed yes or no answers it
            resume = texts.yes_no(text)
            press = Resume(resume) if resume is not None else None
        if press is None and text and not out.secret_answer and not texts.is_cancel(text):
            # a button's number or label, typed: the same as pressing it ("cancel" always
            # cancels, whatever a button is called); "that didn't help" answers a guide's
            # "Was this helpful?" (the intent model would hear thanks in it)
            typed = (
                texts.typed_button(text, state.offered)
                or texts.typed_feedback(text, state.offered)
                or texts.yes_to_the_one(text, state.offered)
            )
            if typed is not None:
                press = typed.action
                out.details["typed_button"] = typed.label
            elif (detail := texts.adds_to_guide(text, state.offered)) is not None:
                press = detail  # "it's a Dell" after a guide: read with the guide's question
        if isinstance(press, Ask):
            text, _ = texts.clean(press.text)
            press = None
        prediction: Prediction | None = None
        if isinstance(press, Resume):
            parking.resume(self.runner, press.yes, state, out)
        elif press is not None:
            await handle_press(self.runner, press, pending, scope, state, out)
        elif not text:
            out.replies.append(Reply(wording.EMPTY_MESSAGE))
            out.outcome = "empty"
        else:
            prediction = await self._predict(text, state)
            answer = texts.yes_no(text) if pending is not None else None
            follow = texts.refers_to_guide(text, state.offered)
            if follow and not (state.waiting or pending) and prediction.may_follow_on(ACT):
                # "how do I turn it off" after the out-of-office guide ("cancel it": a cancel)
                await handle_press(self.runner, follow, pending, scope, state, out)
            elif texts.is_cancel(text):
                self.runner.cancel(state, out)
            elif answer is not None:
                await answer_switch(
                    self.runner, pending, answer, scope, state, out, slots=prediction.slots
                )
            else:
                await self._text(text, prediction, scope, state, out)
        if state.parked is not None and state.parked is parked and parked.offered:
            state.parked = None  # offered back and not taken up: they have moved on
        parking.offer_resume(self.runner, state, out)
        return out, prediction, state

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
        minutes = self.services.settings.flow_timeout_minutes
        if now - conv.updated_at <= timedelta(minutes=minutes):
            return
        state.offered = ()  # buttons of a conversation long gone: a typed "1" is just "1"
        if not state.waiting:
            state.parked = None
            return
        flow = self.runner.waiting_flow(state)
        step = flow.states[state.step] if flow and state.step else None
        if step is None or not (step.optional or step.silent):  # nothing asked: nothing closed
            waiting = step.waiting(state.data) if step else ""
            out.replies.append(
                Reply(
                    wording.TIMED_OUT.format(waiting_for=waiting or "your answer", minutes=minutes)
                )
            )
        out.details["timed_out"] = state.flow
        state.clear()
        state.parked = None

    async def _predict(self, text: str, state: ConversationState) -> Prediction:
        context: dict[str, str] = {}
        flow = self.runner.waiting_flow(state)
        if flow is not None and state.step is not None:
            context["expecting"] = flow.states[state.step].expecting
            context["flow"] = flow.name
        # in a worker thread: with the embedding model this encodes the message
        prediction = await asyncio.to_thread(self.services.detector.detect, text, context)
        # "yes" is never a cancel (the model knows no "yes": cancel, 47%)
        return prediction.without("cancel") if texts.yes_no(text) else prediction

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
                waiting = flow.states[state.step]
                new_request = self._new_request(prediction, flow)
                if not (waiting.optional and new_request):
                    ctx = runner.context(
                        scope, prediction, state.data, text, new_request=new_request
                    )
                    result = await waiting.handler(ctx)
                    if isinstance(result, Step):
                        await runner.apply(flow, result, ctx, state, out)
                        return
                if prediction.intent == "cancel" and prediction.confidence >= CONFIRM:
                    runner.cancel(state, out)
                    return
                if new_request and not flow.interruptible:
                    # a clear new request goes through; this one waits to be offered back
                    state.park()
                    out.details["parked"] = flow.name
                elif not flow.interruptible:
                    new_flow = self.flows.for_intent(prediction.intent)
                    if (
                        new_flow is not None
                        and new_flow.name != flow.name
                        and prediction.intent not in _IN_PASSING
                        and prediction.confidence >= CONFIRM
                    ):
                        offer_switch(flow, prediction.intent, text, state, out)
                        return
                    runner.reprompt(state, out, "{waiting_for}", how=True)
                    return
            state.clear()
        # a bare "no" with nothing going on says goodbye, not "There's nothing to cancel"
        said_no = texts.bare_answer(text) is False and state.parked is None
        if prediction.intent == "cancel" and prediction.confidence >= CONFIRM and not said_no:
            if prediction.confidence >= ACT or state.parked is not None:
                runner.cancel(state, out)
                return
            prediction = prediction.without("cancel")  # unsure, and nothing to cancel
        await self._route(text, prediction, scope, state, out)

    async def _guide_is_sure(self, text: str, scope: Scope) -> bool:
        """Whether the guides answer ``text`` (three words or more) outright."""
        if len(text.split()) < 3:
            return False
        result = await self.services.knowledge.search(text, scope.asker.council)
        return result.decision == "answer"

    def _new_request(self, prediction: Prediction, flow: Flow) -> bool:
        """Whether a message is clearly a request of its own, not an answer to ``flow``."""
        new_flow = self.flows.for_intent(prediction.intent)
        return (
            prediction.intent not in _IN_PASSING
            and not prediction.not_fixed  # "still broken" answers what was asked
            and prediction.confidence >= ACT
            and new_flow is not None
            and new_flow.name != flow.name
        )

    async def _follow_up(
        self, ctx: FlowContext, prediction: Prediction, state: ConversationState, out: Outcome
    ) -> bool:
        """A reply to an agent's question on the person's ticket, unless clearly new."""
        flow = self.flows.get(followup.NAME)
        intent, confidence = prediction.intent, prediction.confidence
        # "done, still broken" answers the agent: what didn't fix it is never new
        clearly_new = (
            confidence >= ACT
            and intent not in {"question", "out_of_scope"}
            and not prediction.not_fixed
        )
        if flow is None or clearly_new or intent == "cancel":
            return False
        step = await followup.follow_up(
            ctx, question=intent == "question" and confidence >= CONFIRM
        )
        if step is None:
            return False
        await self.runner.apply(flow, step, ctx, state, out)
        return True

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
        if await self._follow_up(ctx, prediction, state, out):
            return
        if (bare := texts.bare_answer(text)) is not None:  # "yes", "no thanks": to nothing asked
            if bare and len(state.offered) > 1:  # "yes" to buttons that asked nothing
                out.replies.append(Reply(wording.WHICH_ONE, buttons=state.offered))
                out.outcome = "reoffered"
                return
            await self.runner.start_intent("help" if bare else "goodbye", ctx, state, out)
            return
        flow = self.flows.for_intent(intent)
        # unsure, but what the flow takes on without a check: "what's the desk's email?" (48%)
        takes_it = confidence >= CONFIRM and flow is not None and flow.takes_on(text)
        if intent in {"question", "out_of_scope"} or confidence >= ACT or takes_it:
            await self.runner.start_intent(intent, ctx, state, out)
            return
        person = any(n == "talk_to_human" and p >= OFFER for n, p in prediction.alternatives)
        if intent == "raise_ticket" and not person and await self._guide_is_sure(text, scope):
            # "my laptop was stolen" (a ticket, 61%): its guide says what to do first, and
            # its No offers the ticket, rather than "do you want to raise a ticket?" (not
            # for a word or two: "projector" alone finds a Teams guide, surely; nor when it
            # may ask for a person: "nothing here fixes it, get me someone from IT")
            await self.runner.start_intent("question", ctx, state, out)
            return
        if confidence >= CONFIRM and flow is not None:
            state.flow, state.step = "clarify", "confirm"
            # what the message said beyond its intent (the product, for a colleague...)
            # stays with it: a "yes" says nothing of that
            slots = slots_to_json(prediction.slots)
            state.data = {"intent": intent, "text": text, "slots": slots}
            out.replies.append(
                Reply(
                    wording.CONFIRM_INTENT.format(
                        action=wording.action(intent, prediction.slots.for_colleague)
                    ),
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
        if len(options) >= 2 and prediction.mostly_asks and await self._guide_is_sure(text, scope):
            # unsure what to do, and mostly asking: a guide that answers it outright beats a
            # choice of things to do ("I'm going on maternity leave, what happens to my account?")
            await self.runner.start_intent("question", ctx, state, out)
            return
        if len(options) >= 2:
            colleague = prediction.slots.for_colleague
            buttons = [
                Button(wording.upper_first(wording.action(o, colleague)), ChooseIntent(o))
                for o in options
            ]
            buttons.append(Button("Something else", Ask(text)))
            # a press starts the flow from this message (its problem, its colleague...)
            slots = slots_to_json(prediction.slots)
            state.data = {"text": text, "slots": slots, "offered": options}
            out.replies.append(
                Reply(wording.OFFER_INTENTS, buttons=tuple(buttons), kind="question")
            )
            out.outcome, out.flow = "offer_intents", None
            return
        await self.runner.start_intent("question", ctx, state, out)
