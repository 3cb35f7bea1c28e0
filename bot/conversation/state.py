"""The conversation state the engine keeps between turns, and how it is stored.

The flow, its waiting state and its data live in the ``conversations`` row; so do the
engine's own facts, as typed fields here: a pending "switch to something else?" question,
the buttons of the last turn (so a typed number or label presses one), the buttons of the
question the flow waits on (shown again when an answer isn't understood) and a draft set
aside for another request ("carry on with the ticket?"). In the row they are kept in the
``data`` JSON column under reserved keys (the switch under the key earlier versions used,
so a question pending at an upgrade is still answered), never seen by a flow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.conversation.actions import decode_action, encode_action
from bot.conversation.messages import Button
from bot.storage import conversations as conversation_repo
from bot.storage.models import Conversation
from intents import Slots

#: where a pending switch is kept in ``Conversation.data``, beside the flow's own data
SWITCH_KEY = "_switch"
#: the last turn's buttons, the waiting question's buttons, a draft set aside
OFFERED_KEY, ASKED_KEY, PARKED_KEY = "_offered", "_asked", "_parked"
_RESERVED = (SWITCH_KEY, OFFERED_KEY, ASKED_KEY, PARKED_KEY)


def slots_to_json(slots: Slots) -> dict[str, Any]:
    """What a message said beyond its intent, kept while the bot asks what it meant ("Just to
    check...", "Is it one of these?"): the answer ("yes", a press) says nothing of that."""
    return dataclasses.asdict(slots)


def slots_from_json(data: object) -> Slots | None:
    """The slots :func:`slots_to_json` kept, or ``None`` (none kept, or unreadable)."""
    if not isinstance(data, dict):
        return None
    names = {f.name for f in dataclasses.fields(Slots)}
    try:
        return Slots(**{k: v for k, v in data.items() if k in names})
    except TypeError:
        return None


def buttons_to_json(buttons: tuple[Button, ...]) -> list[list[str]]:
    return [
        [b.label, encode_action(b.action), b.style, *(["yes"] if b.yes else ["no"] if b.no else [])]
        for b in buttons
    ]


def buttons_from_json(data: object) -> tuple[Button, ...]:
    """Buttons kept in the row; anything garbled is left out."""
    if not isinstance(data, list):
        return ()
    kept = []
    for item in data:
        if not (isinstance(item, list) and len(item) in (3, 4)):
            continue
        if not all(isinstance(x, str) for x in item):
            continue
        action = decode_action(item[1])
        style = item[2] if item[2] in ("default", "primary", "danger") else "default"
        if action is not None:
            yes, no = item[3:] == ["yes"], item[3:] == ["no"]
            kept.append(Button(item[0], action, style, yes, no))  # type: ignore[arg-type]
    return tuple(kept)


@dataclass(frozen=True, slots=True)
class Parked:
    """A flow set aside, mid-way, for another request: resumed where it stood on "yes"."""

    flow: str
    step: str
    data: dict[str, Any]
    asked: tuple[Button, ...] = ()
    #: the person has been asked whether to carry on with it
    offered: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "data": self.data,
            "asked": buttons_to_json(self.asked),
            "offered": self.offered,
        }

    @classmethod
    def from_json(cls, data: object) -> Parked | None:
        if not isinstance(data, dict):
            return None
        flow, step, kept = data.get("flow"), data.get("step"), data.get("data")
        if not (isinstance(flow, str) and isinstance(step, str) and isinstance(kept, dict)):
            return None
        asked = buttons_from_json(data.get("asked"))
        return cls(flow, step, kept, asked, bool(data.get("offered")))


@dataclass(frozen=True, slots=True)
class PendingSwitch:
    """The person was asked whether to leave their flow for ``intent``; ``text`` is what
    they asked, worked on if they say yes."""

    intent: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"intent": self.intent, "text": self.text}

    @classmethod
    def from_json(cls, data: object) -> PendingSwitch | None:
        if not isinstance(data, dict) or not isinstance(data.get("intent"), str):
            return None
        return cls(data["intent"], str(data.get("text") or ""))


@dataclass(slots=True)
class ConversationState:
    """Where one conversation stands: the flow and state it waits in, the flow's data."""

    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    pending_switch: PendingSwitch | None = None
    #: every button of the last turn's replies, in the order channels show (and number) them
    offered: tuple[Button, ...] = ()
    #: the buttons of the question the flow waits on, shown again with a reminder
    asked: tuple[Button, ...] = ()
    parked: Parked | None = None

    @classmethod
    def load(cls, conversation: Conversation) -> ConversationState:
        data = dict(conversation.data or {})
        pending = PendingSwitch.from_json(data.pop(SWITCH_KEY, None))
        offered = buttons_from_json(data.pop(OFFERED_KEY, None))
        asked = buttons_from_json(data.pop(ASKED_KEY, None))
        parked = Parked.from_json(data.pop(PARKED_KEY, None))
        return cls(conversation.flow, conversation.step, data, pending, offered, asked, parked)

    def save(self, conversation: Conversation, now: datetime) -> None:
        data = {k: v for k, v in self.data.items() if k not in _RESERVED}
        if self.pending_switch is not None:
            data[SWITCH_KEY] = self.pending_switch.to_json()
        if self.offered:
            data[OFFERED_KEY] = buttons_to_json(self.offered)
        if self.asked and self.waiting:
            data[ASKED_KEY] = buttons_to_json(self.asked)
        if self.parked is not None:
            data[PARKED_KEY] = self.parked.to_json()
        conversation_repo.save_state(
            conversation, flow=self.flow, step=self.step, data=data, now=now
        )

    @property
    def waiting(self) -> bool:
        return self.flow is not None and self.step is not None

    def clear(self) -> None:
        """No flow, no data, nothing pending (a parked draft stays until answered)."""
        self.flow, self.step, self.data, self.pending_switch = None, None, {}, None
        self.asked = ()

    def park(self) -> None:
        """Set the waiting flow aside, to offer it back once the new request is done."""
        if self.flow is not None and self.step is not None:
            self.parked = Parked(self.flow, self.step, dict(self.data), self.asked)
        self.clear()

    def unpark(self) -> None:
        """Back to where the parked flow stood."""
        parked, self.parked = self.parked, None
        if parked is not None:
            self.flow, self.step, self.data = parked.flow, parked.step, dict(parked.data)
            self.asked, self.pending_switch = parked.asked, None

    def take_switch(self) -> PendingSwitch | None:
        """The pending switch, which only the very next turn may answer."""
        pending, self.pending_switch = self.pending_switch, None
        return pending
