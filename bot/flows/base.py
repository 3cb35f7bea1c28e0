"""Flows as explicit state tables.

A flow is a small state machine over persisted state: an entry handler that runs
when one of its intents is detected, and a table of waiting states, each with the
handler for the next message or button press. Handlers return a :class:`Step`;
the engine persists ``Step.next`` (the state to wait in) and ``FlowContext.data``.

>>> flow = Flow(name="hello", intents=frozenset({"greeting"}), start=say_hello)  # doctest: +SKIP
>>> registry.register(flow)                                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from bot.conversation.messages import Incoming, Reply

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services
    from intents import Prediction

Expecting = Literal["text", "yes_no", "choice"]


@dataclass(frozen=True, slots=True)
class Asker:
    """Who is asking, as flows see them (never a database row)."""

    staff_id: int
    email: str
    council: str
    council_name: str
    display_name: str
    #: an agent, and proven to be (agent powers never follow a typed address)
    is_agent: bool = False
    #: the channel proved who this is (see ``Incoming.proven``)
    proven: bool = False


@dataclass(slots=True)
class FlowContext:
    incoming: Incoming
    asker: Asker
    services: Services
    prediction: Prediction | None
    data: dict[str, Any]
    now: datetime
    #: the database session of this turn: what a flow writes commits with the state
    session: AsyncSession
    conversation_id: int
    #: the text to work on: what was typed, or the text a button stands for
    text: str = ""
    #: the engine reads the message as a clear request of its own (a waiting state that
    #: takes free text should leave it: the engine then parks this flow or offers a switch)
    new_request: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """What a handler did: replies to send, the state to wait in (``None`` ends the flow)."""

    replies: tuple[Reply, ...]
    next: str | None = None
    outcome: str = ""
    #: extra facts for the transcript (article ids shown, decision, ...)
    details: Mapping[str, Any] = field(default_factory=dict)
    #: start the flow of this intent next, on ``FlowContext.text`` (ends this flow)
    handoff: str | None = None


class NotForMe:
    """Returned by a waiting-state handler when the message is not an answer to it."""


NOT_FOR_ME = NotForMe()

Handler = Callable[[FlowContext], Awaitable[Step]]
StateHandler = Callable[[FlowContext], Awaitable["Step | NotForMe"]]


@dataclass(frozen=True, slots=True)
class State:
    handler: StateHandler
    expecting: Expecting = "text"
    #: what the flow is waiting for, in words, for timeout and switch messages; ``{key}``
    #: is filled from the flow's data (see :meth:`waiting`)
    waiting_for: str = "your answer"
    #: a ``<flow>:<verb>`` state that (re)starts its flow: its step becomes the conversation's
    #: state, replacing any other flow (other ``<flow>:<verb>`` presses leave the state alone)
    starts_flow: bool = False
    #: the answer is a secret (a one-time code): the transcript keeps a placeholder
    secret: bool = False
    #: an answer may be skipped (a rating's comment): a message that is clearly a new
    #: request goes to that request rather than into this state
    optional: bool = False
    #: the state listens without having asked anything (after a guide's No): when it times
    #: out, nothing is said of it
    silent: bool = False

    def waiting(self, data: Mapping[str, Any]) -> str:
        """:attr:`waiting_for` with the flow's ``data`` filled in ("the code we sent to
        your mobile ending 123"); a key the data lacks reads as "you"."""
        return self.waiting_for.format_map(_OrYou(data))


class _OrYou(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "you"


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    intents: frozenset[str]
    start: Handler
    states: Mapping[str, State] = field(default_factory=dict)
    #: a flow the person may leave without being asked (e.g. after an answer)
    interruptible: bool = False
    #: a short description for "you're in the middle of ..." messages
    describe: str = ""
    #: messages this flow takes on without the engine's "do you want to …?" check, when
    #: the detector puts its intent first but is unsure ("what's the desk's email
    #: address?" only asks for that: answering it commits to nothing)
    acts_on: Callable[[str], bool] | None = None

    def takes_on(self, text: str) -> bool:
        """Whether ``text`` is one this flow acts on without a check (:attr:`acts_on`)."""
        return self.acts_on is not None and self.acts_on(text)


class FlowRegistry:
    """All flows, found by name or by the intent that starts them."""

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}
        self._by_intent: dict[str, Flow] = {}

    def register(self, flow: Flow) -> None:
        if flow.name in self._flows:
            raise ValueError(f"flow {flow.name!r} registered twice")
        for intent in flow.intents:
            if intent in self._by_intent:
                raise ValueError(f"intent {intent!r} already starts {self._by_intent[intent].name}")
            self._by_intent[intent] = flow
        self._flows[flow.name] = flow

    def get(self, name: str) -> Flow | None:
        return self._flows.get(name)

    def for_intent(self, intent: str) -> Flow | None:
        return self._by_intent.get(intent)

    def __iter__(self) -> Iterator[Flow]:
        return iter(self._flows.values())
