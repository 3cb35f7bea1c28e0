"""The values the detector returns, and the encoder it can use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

#: The intents the bot ships with, in the order the help text lists them. A data directory may
#: add more (one file per intent); :attr:`IntentDetector.intents` lists what was loaded.
INTENTS: tuple[str, ...] = (
    "question",
    "reset_password",
    "unlock_account",
    "reset_mfa",
    "raise_ticket",
    "ticket_status",
    "talk_to_human",
    "greeting",
    "thanks",
    "goodbye",
    "help",
    "cancel",
    "out_of_scope",
)

#: Intents about the person's IT; the rest are conversational or out of scope.
IT_INTENTS: frozenset[str] = frozenset(INTENTS[:7])
OUT_OF_SCOPE = "out_of_scope"

#: Values of :attr:`Slots.urgency`, most urgent first.
URGENCY_LEVELS: tuple[str, ...] = ("urgent", "high", "low")


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows ``(len(texts), dim)``.

    The knowledge package's MiniLM encoder fits; if it also has ``encode_cached`` (same
    signature, backed by its on-disk cache), the detector uses that for its examples.
    """

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class Slots:
    """What the message says beyond its intent.

    - ``ticket_ref``: normalised ``PREFIX-NNNNNN`` (six digits, zero-padded), from "JSD-1042",
      "jsd 1042", "JSD1042", "ticket 1042", "ticket no. 1042", "ref 1042", "reference #1042";
      a bare number only when the conversation is expecting a reference.
    - ``product``: one of ``email, calendar, documents, sign-in, password, mfa, teams, mobile,
      browser, device`` (see ``lexicon.yml``); for the reset intents, implied when not mentioned.
    - ``urgency``: ``"urgent"``, ``"high"`` or ``"low"`` (see :data:`URGENCY_LEVELS`).
    - ``for_colleague``: the request is for someone else (the bot never resets for others).
    - ``colleague``: their email address or name, when the message gives one.
    - ``adds_to_ticket``: asks to add something to a ticket already raised.
    """

    ticket_ref: str | None = None
    product: str | None = None
    urgency: str | None = None
    for_colleague: bool = False
    colleague: str | None = None
    adds_to_ticket: bool = False


#: the rule (:mod:`intents.rules`) that reads "that didn't help", "still not working"
NOT_FIXED = "not-fixed"
#: the rule that reads "is there an outage?", "is anything down?": known problems asked about
KNOWN_PROBLEMS = "known-problems"
#: the rule that reads "it's not working" with nothing said of what: the desk asks what
NOTHING_NAMED = "nothing-named"
#: the rule that reads "are you a bot?", "is it you or a real person": the help, said plainly
ASKS_IF_A_BOT = "asks-if-a-bot"


@dataclass(frozen=True, slots=True)
class Prediction:
    """The detector's answer for one message.

    ``confidence`` is calibrated: of many predictions made with confidence 0.8, about 80% are
    right. ``alternatives`` are the runners-up with their probabilities, best first; ``reasons``
    say, in plain words, what decided it (``itbot intents explain`` prints them); ``rules`` name
    the rules (:mod:`intents.rules`) that fired for the intent chosen.
    """

    intent: str
    confidence: float
    slots: Slots = field(default_factory=Slots)
    alternatives: tuple[tuple[str, float], ...] = ()
    reasons: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    @property
    def asks_if_a_bot(self) -> bool:
        """Whether it asks if this is a bot or a person ("are you a real person?")."""
        return ASKS_IF_A_BOT in self.rules

    @property
    def names_nothing(self) -> bool:
        """Whether it says something is broken but not what ("it's not working")."""
        return NOTHING_NAMED in self.rules

    @property
    def not_fixed(self) -> bool:
        """Whether it says what was tried didn't fix it ("that didn't help"): about something
        already said or shown (a guide, an agent's suggestion), never a request of its own."""
        return NOT_FIXED in self.rules

    @property
    def asks_known_problems(self) -> bool:
        """Whether it asks if something is down ("is there an outage?", "is email down?")."""
        return KNOWN_PROBLEMS in self.rules

    @property
    def mostly_asks(self) -> bool:
        """Whether "a question" and "not IT" together weigh at least as much as the best
        guess ("I'm going on maternity leave, what happens to my account?": unlock 31%, not
        IT 30%, a question 11%)."""
        asking = sum(p for n, p in self.alternatives if n in {"question", "out_of_scope"})
        return asking >= self.confidence

    def may_follow_on(self, act: float) -> bool:
        """Whether a question about "it" may be about what was just said ("how do I cancel
        it", a cancel to the model): it names no product, asks for nothing done (a question,
        not IT, a cancel, or nothing at ``act`` confidence), and not whether something's down
        ("is it down?")."""
        asks = self.intent in {"question", "out_of_scope", "cancel"} or self.confidence < act
        return asks and self.slots.product is None and not self.asks_known_problems

    def without(self, intent: str) -> Prediction:
        """This prediction with ``intent`` ruled out by the conversation (a cancel with
        nothing to cancel, a bare "yes"): its best runner-up comes first, with its own
        probability."""
        if self.intent != intent or not self.alternatives:
            return self
        (best, score), *rest = self.alternatives
        reasons = (*self.reasons, f"not {intent}: ruled out by the conversation")
        return replace(
            self, intent=best, confidence=score, alternatives=tuple(rest), reasons=reasons, rules=()
        )
