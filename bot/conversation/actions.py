"""What a button press (or a submitted form) asks for, parsed once into a typed value.

Channels carry an action as a string in their wire format (a Slack button's value, the
web chat's ``data-action``, a stored notification) and turn it back with the one pair
:func:`encode_action` / :func:`decode_action`. The engine and the flows only see these types.

>>> encode_action(FlowAnswer("raise_ticket", "device"))
'flow:raise_ticket|device'
>>> decode_action("intent|raise_ticket")
ChooseIntent(intent='raise_ticket')
>>> decode_action("no such thing") is None
True
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True, slots=True)
class Ask:
    """Treat ``text`` as if the person had typed it ("Show me the guide")."""

    text: str


@dataclass(frozen=True, slots=True)
class ChooseIntent:
    """Start the flow of ``intent``, as if it had been detected with certainty."""

    intent: str


@dataclass(frozen=True, slots=True)
class ConfirmSwitch:
    """The answer to "leave what you're doing for something else?"."""

    yes: bool


@dataclass(frozen=True, slots=True)
class Resume:
    """The answer to "carry on with the request you set aside?"."""

    yes: bool


@dataclass(frozen=True, slots=True)
class FlowAnswer:
    """An answer to the question ``flow`` is waiting on; ``value`` is the option chosen."""

    flow: str
    value: str


@dataclass(frozen=True, slots=True)
class FlowCommand:
    """A press that works at any time: the flow's ``<flow>:<verb>`` state, given ``value``."""

    flow: str
    verb: str
    value: str = ""

    @property
    def state(self) -> str:
        return f"{self.flow}:{self.verb}"


@dataclass(frozen=True, slots=True)
class SubmitForm:
    """A submitted form, answered by the flow's ``<flow>:<verb>`` state; plain field names."""

    flow: str
    verb: str
    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, flow: str, verb: str, fields: Mapping[str, str]) -> SubmitForm:
        return cls(flow, verb, tuple(sorted(fields.items())))

    @property
    def state(self) -> str:
        return f"{self.flow}:{self.verb}"

    def values(self) -> dict[str, str]:
        return dict(self.fields)


Action = Ask | ChooseIntent | ConfirmSwitch | Resume | FlowAnswer | FlowCommand | SubmitForm


def encode_action(action: Action) -> str:
    """``name|argument``: the wire form of ``action`` (the argument comes last, so a
    channel that must shorten it cuts the argument only).

    >>> encode_action(FlowCommand("ticket_status", "csat", "JSD-000001:5"))
    'ticket_status:csat|JSD-000001:5'
    """
    match action:
        case Ask(text):
            return f"ask|{text}"
        case ChooseIntent(intent):
            return f"intent|{intent}"
        case ConfirmSwitch(yes):
            return f"switch|{'yes' if yes else 'no'}"
        case Resume(yes):
            return f"resume|{'yes' if yes else 'no'}"
        case FlowAnswer(flow, value):
            return f"flow:{flow}|{value}"
        case FlowCommand(flow, verb, value):
            return f"{flow}:{verb}|{value}"
        case SubmitForm(flow, verb, fields):
            body = json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":"))
            return f"form:{flow}:{verb}|{body}"


def decode_action(raw: str, value: str | None = None) -> Action | None:
    """The action ``raw`` stands for, or ``None`` for anything unknown or garbled.

    ``value``: the argument of a button made before actions were typed, when it was kept
    apart from the name (``{"action": "intent", "value": "raise_ticket"}``).

    >>> decode_action("switch|yes"), decode_action("intent", "help")
    (ConfirmSwitch(yes=True), ChooseIntent(intent='help'))
    >>> decode_action("switch|perhaps") is None, decode_action("flow:|x") is None
    (True, True)
    """
    if value:
        raw = f"{raw}|{value}"
    name, _, argument = raw.partition("|")
    if name == "ask":
        return Ask(argument)
    if name == "intent":
        return ChooseIntent(argument) if _NAME.fullmatch(argument) else None
    if name == "switch":
        return {"yes": ConfirmSwitch(True), "no": ConfirmSwitch(False)}.get(argument)
    if name == "resume":
        return {"yes": Resume(True), "no": Resume(False)}.get(argument)
    if name.startswith("flow:"):
        flow = name.removeprefix("flow:")
        return FlowAnswer(flow, argument) if _NAME.fullmatch(flow) else None
    if name.startswith("form:"):
        return _form(name.removeprefix("form:"), argument)
    flow, _, verb = name.partition(":")
    if _NAME.fullmatch(flow) and _NAME.fullmatch(verb):
        return FlowCommand(flow, verb, argument)
    return None


def _form(name: str, body: str) -> SubmitForm | None:
    flow, _, verb = name.partition(":")
    if not (_NAME.fullmatch(flow) and _NAME.fullmatch(verb)):
        return None
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    fields = {str(k): v for k, v in data.items() if isinstance(v, str)}
    return SubmitForm.of(flow, verb, fields)
