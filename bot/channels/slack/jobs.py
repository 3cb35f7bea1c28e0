"""What a Slack request asks the bot to do, as recorded in the inbox before the ack.

A :class:`Job` is the adapter's own small record: who (a Slack user id), what (text or a
button press), where the conversation lives (``thread``, the engine's ``Incoming.thread``)
and where the answer goes (``reply_to``). Listeners build jobs from Slack payloads; the
worker turns them into ``Incoming`` after the ack. Nothing outside this package sees them.

>>> job = from_message({"user": "U1", "channel": "D1", "channel_type": "im", "text": "hi",
...                     "ts": "1.2"})
>>> job.kind, job.thread, job.reply_to
('message', 'dm', 'channel')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from bot.conversation.actions import (
    Action,
    ChooseIntent,
    FlowCommand,
    SubmitForm,
    decode_action,
    encode_action,
)

Kind = Literal[
    "message",
    "mention",
    "command",
    "press",
    "shortcut",
    "submission",
    "home",
    "triage_action",
    "triage_reply",
]
#: where replies go: the conversation's channel (and thread), the command's response_url,
#: a direct message, or the App Home tab
ReplyTo = Literal["channel", "response_url", "dm", "home"]

#: the conversation with the bot in its direct messages (one per person)
DM_THREAD = "dm"
#: callback id of the message shortcut in ``manifest.yml``
TICKET_SHORTCUT = "raise_it_ticket"
#: prefix of every action_id and view callback_id the bot renders
ACTION_PREFIX = "itbot:"
LINK_PREFIX = "link:"
#: action_id prefix of the triage message's controls (claim, assign, priority, resolve)
TRIAGE_ACTION_PREFIX = "itbot:triage:"
#: block_id prefix of the triage message's controls; the ticket reference follows
TRIAGE_BLOCK_PREFIX = "triage:"
#: action_id of the "Enter the code" button and callback_id of the code form (see ``codeform``)
CODE_FORM_ID = "itbot:code_form"

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SPACES = re.compile(r"[ \t]+")
MAX_VALUE = 2000  # Slack's limit on a button's value


@dataclass(frozen=True, slots=True)
class PressData:
    """A press as recorded: for the bot's buttons ``action`` is the encoded action (see
    :meth:`typed`); for triage controls it is the verb, ``value`` the ticket reference."""

    action: str
    value: str = ""
    label: str = ""

    def typed(self) -> Action | None:
        # "value" is set in jobs recorded before actions were typed
        return decode_action(self.action, self.value)


@dataclass(frozen=True, slots=True)
class Job:
    kind: Kind
    user: str
    thread: str
    reply_to: ReplyTo
    text: str = ""
    team: str = ""
    channel: str = ""
    #: the Slack thread replies go in ("" = top level)
    thread_ts: str = ""
    press: PressData | None = None
    response_url: str = ""
    #: the message whose button was pressed, to mark the choice made
    message_ts: str = ""
    message_text: str = ""
    message_blocks: list[dict[str, Any]] = field(default_factory=list)
    block_id: str = ""
    #: the modal a submission came from (its answer may update it: ``views.update``)
    view_id: str = ""
    #: the key of values held in memory instead of being recorded (see ``held``)
    held: str = ""

    @property
    def ordering_key(self) -> str:
        """Jobs of one person in one conversation run in the order Slack sent them."""
        return f"{self.user}:{self.thread}"[:255]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (shallow: this runs on the ack path, for every request)."""
        data = {name: getattr(self, name) for name in _FIELDS}
        if self.press is not None:
            data["press"] = {
                "action": self.press.action,
                "value": self.press.value,
                "label": self.press.label,
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        values = dict(data)
        press = values.pop("press", None)
        return cls(**values, press=PressData(**press) if press else None)


_FIELDS = tuple(f.name for f in fields(Job))


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's message markup back to what the person typed.

    >>> plain_text("<@UBOT> how do I use <https://x.example|this link> &amp; &lt;b&gt;", "UBOT")
    'how do I use this link & <b>'
    """

    def mention(match: re.Match[str]) -> str:
        return "" if match.group(1) == bot_user_id else "@someone"

    text = _MENTION.sub(mention, text)
    text = _CHANNEL.sub(lambda m: "#" + m.group(1), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SPACES.sub(" ", text).strip()


def from_message(event: dict[str, Any], bot_user_id: str | None = None) -> Job | None:
    """A direct message to the bot, or ``None`` for anything the bot should not answer."""
    if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
        return None
    thread_ts = str(event.get("thread_ts") or "")
    return Job(
        kind="message",
        user=str(event["user"]),
        team=str(event.get("team") or ""),
        channel=str(event.get("channel") or ""),
        thread=f"{DM_THREAD}:{thread_ts}" if thread_ts else DM_THREAD,
        thread_ts=thread_ts,
        reply_to="channel",
        text=plain_text(str(event.get("text") or ""), bot_user_id),
        message_ts=str(event.get("ts") or ""),
    )


def from_mention(event: dict[str, Any], bot_user_id: str | None = None) -> Job | None:
    """An @mention in a channel: answered in a thread under the message, never in the channel."""
    if event.get("bot_id") or not event.get("user"):
        return None
    channel = str(event.get("channel") or "")
    thread_ts = str(event.get("thread_ts") or event.get("ts") or "")
    return Job(
        kind="mention",
        user=str(event["user"]),
        team=str(event.get("team") or ""),
        channel=channel,
        thread=f"{channel}:{thread_ts}",
        thread_ts=thread_ts,
        reply_to="channel",
        text=plain_text(str(event.get("text") or ""), bot_user_id),
    )


def from_command(command: dict[str, Any]) -> Job:
    """``/itdesk [question]``: answered privately through the command's ``response_url``."""
    channel = str(command.get("channel_id") or "")
    text = plain_text(str(command.get("text") or ""))
    return Job(
        kind="command",
        user=str(command.get("user_id") or ""),
        team=str(command.get("team_id") or ""),
        channel=channel,
        thread=f"command:{channel}",
        reply_to="response_url",
        text=text or "help",
        response_url=str(command.get("response_url") or ""),
    )


def from_action(body: dict[str, Any]) -> Job | None:
    """A press of one of the bot's buttons, wherever it is (DM, thread, ephemeral, Home)."""
    actions = body.get("actions") or []
    if not actions:
        return None
    action = actions[0]
    if str(action.get("action_id") or "").startswith(TRIAGE_ACTION_PREFIX):
        return from_triage_action(body, action)
    decoded = decode_value(str(action.get("value") or ""))
    if decoded is None:  # not one of our buttons, or garbled: nothing to do
        return None
    pressed, thread = decoded
    label = str((action.get("text") or {}).get("text") or "")
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    user = str((body.get("user") or {}).get("id") or "")
    press = PressData(encode_action(pressed), label=label)
    common: dict[str, Any] = {
        "kind": "press",
        "user": user,
        "team": str((body.get("team") or {}).get("id") or ""),
        "press": press,
        "block_id": str(action.get("block_id") or ""),
    }
    if container.get("type") == "view" or not channel:
        return Job(**common, thread=thread or DM_THREAD, reply_to="dm")
    if container.get("is_ephemeral") or not message:
        return Job(
            **common,
            channel=channel,
            thread=thread or f"command:{channel}",
            reply_to="response_url",
            response_url=str(body.get("response_url") or ""),
        )
    thread_ts = str(container.get("thread_ts") or message.get("thread_ts") or "")
    if not channel.startswith("D") and not thread_ts:
        thread_ts = str(message.get("ts") or "")
    return Job(
        **common,
        channel=channel,
        thread=thread or (f"{channel}:{thread_ts}" if not channel.startswith("D") else DM_THREAD),
        thread_ts=thread_ts,
        reply_to="channel",
        message_ts=str(message.get("ts") or container.get("message_ts") or ""),
        message_text=str(message.get("text") or ""),
        message_blocks=list(message.get("blocks") or []),
    )


def from_triage_action(body: dict[str, Any], action: dict[str, Any]) -> Job | None:
    """An agent's control on a ticket's triage message: claim, assign, priority, resolve.

    The verb follows :data:`TRIAGE_ACTION_PREFIX` in the action id, the ticket reference
    follows :data:`TRIAGE_BLOCK_PREFIX` in the block id, and what was chosen (a user, a
    priority) is the press's ``label``.
    """
    verb = str(action.get("action_id") or "").removeprefix(TRIAGE_ACTION_PREFIX)
    block_id = str(action.get("block_id") or "")
    ref = (
        block_id.removeprefix(TRIAGE_BLOCK_PREFIX)
        if block_id.startswith(TRIAGE_BLOCK_PREFIX)
        else ""
    )
    ref = ref or str(action.get("value") or "")
    if not verb or not ref:
        return None
    chosen = _state_value(action) if action.get("type") != "button" else ""
    if action.get("type") == "users_select":
        chosen = str(action.get("selected_user") or "")
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    message_ts = str(message.get("ts") or container.get("message_ts") or "")
    return Job(
        kind="triage_action",
        user=str((body.get("user") or {}).get("id") or ""),
        team=str((body.get("team") or {}).get("id") or ""),
        channel=channel,
        thread=f"triage:{ref}"[:255],
        thread_ts=message_ts,
        reply_to="channel",
        press=PressData(verb, ref[:64], chosen[:64]),
        message_ts=message_ts,
    )


def from_channel_reply(event: dict[str, Any], channel: str | None) -> Job | None:
    """A person's reply in a thread of ``channel`` (the triage channel), else ``None``."""
    if not channel or event.get("channel") != channel or event.get("bot_id"):
        return None
    thread_ts = str(event.get("thread_ts") or "")
    ts = str(event.get("ts") or "")
    if not thread_ts or thread_ts == ts or not event.get("user"):
        return None
    return Job(
        kind="triage_reply",
        user=str(event["user"]),
        team=str(event.get("team") or ""),
        channel=channel,
        thread=f"{channel}:{thread_ts}",
        thread_ts=thread_ts,
        reply_to="channel",
        text=plain_text(str(event.get("text") or "")),
        message_ts=ts,
    )


def from_shortcut(body: dict[str, Any]) -> Job:
    """ "Raise an IT ticket" on a message: starts ``raise_ticket`` with that message's text."""
    message = body.get("message") or {}
    return Job(
        kind="shortcut",
        user=str((body.get("user") or {}).get("id") or ""),
        team=str((body.get("team") or {}).get("id") or ""),
        channel=str((body.get("channel") or {}).get("id") or ""),
        thread=DM_THREAD,
        reply_to="dm",
        text=plain_text(str(message.get("text") or "")),
        press=PressData(encode_action(ChooseIntent("raise_ticket"))),
    )


def from_submission(body: dict[str, Any]) -> Job | None:
    """A submitted modal: a form for the ``<flow>:<verb>`` state named in ``private_metadata``.

    Each input block's ``block_id`` is the field's name (an input block holds one element),
    so the flow gets plain field names, never Slack's ``block_id.action_id``.
    """
    view = body.get("view") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return None
    if not isinstance(meta, dict):
        return None
    target = decode_action(str(meta.get("action") or ""))
    if not isinstance(target, FlowCommand):
        return None
    fields: dict[str, str] = {}
    for block_id, inputs in ((view.get("state") or {}).get("values") or {}).items():
        for state in (inputs or {}).values():
            fields[str(block_id)] = _state_value(state or {})
    form = SubmitForm.of(target.flow, target.verb, fields)
    return Job(
        kind="submission",
        user=str((body.get("user") or {}).get("id") or ""),
        team=str((body.get("team") or {}).get("id") or ""),
        thread=str(meta.get("thread") or DM_THREAD),
        reply_to="dm",
        press=PressData(encode_action(form)),
        view_id=str(view.get("id") or ""),
    )


def from_home(event: dict[str, Any]) -> Job | None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return None
    return Job(kind="home", user=str(event["user"]), thread="home", reply_to="home")


def _state_value(state: dict[str, Any]) -> str:
    if "value" in state:
        return str(state.get("value") or "")
    selected = state.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value") or "")
    for key in ("selected_date", "selected_time", "selected_user", "selected_conversation"):
        if state.get(key):
            return str(state[key])
    return ""


def encode_value(action: Action, thread: str) -> str:
    """A button's ``value``: the action and the conversation it belongs to (at most 2,000
    chars: a long argument, such as the text of an ``Ask``, is shortened)."""
    encoded = encode_action(action)
    while True:
        value = json.dumps({"a": encoded, "t": thread}, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= MAX_VALUE or not encoded:
            return value
        encoded = encoded[: len(encoded) - (len(value) - MAX_VALUE)]


def decode_value(raw: str) -> tuple[Action, str] | None:
    """The action and the thread of a button's ``value``; ``None`` if it isn't one of ours."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str):
        return None
    # "v": buttons sent before actions were typed kept the argument apart
    action = decode_action(data["a"], str(data.get("v") or ""))
    if action is None:
        return None
    return action, str(data.get("t") or "")
