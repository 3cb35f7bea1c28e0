"""The conversation state the engine keeps between turns, and how it is stored.

The flow, its waiting state and its data live in the ``conversations`` row; so does a
pending "switch to something else?" question, as a typed field here. In the row it is
kept in the ``data`` JSON column under one reserved key (the key earlier versions used,
so a question pending at an upgrade is still answered), never seen by a flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.storage import conversations as conversation_repo
from bot.storage.models import Conversation

#: where a pending switch is kept in ``Conversation.data``, beside the flow's own data
SWITCH_KEY = "_switch"


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

    @classmethod
    def load(cls, conversation: Conversation) -> ConversationState:
        data = dict(conversation.data or {})
        pending = PendingSwitch.from_json(data.pop(SWITCH_KEY, None))
        return cls(conversation.flow, conversation.step, data, pending)

    def save(self, conversation: Conversation, now: datetime) -> None:
        data = dict(self.data)
        data.pop(SWITCH_KEY, None)
        if self.pending_switch is not None:
            data[SWITCH_KEY] = self.pending_switch.to_json()
        conversation_repo.save_state(
            conversation, flow=self.flow, step=self.step, data=data, now=now
        )

    @property
    def waiting(self) -> bool:
        return self.flow is not None and self.step is not None

    def clear(self) -> None:
        """No flow, no data, nothing pending."""
        self.flow, self.step, self.data, self.pending_switch = None, None, {}, None

    def take_switch(self) -> PendingSwitch | None:
        """The pending switch, which only the very next turn may answer."""
        pending, self.pending_switch = self.pending_switch, None
        return pending
