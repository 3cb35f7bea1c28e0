"""Replies → Adaptive Cards, through the templates in ``bot/templates/teams/``.

A button is an ``Action.Submit`` whose data carries the encoded action (``itbot``) and
its label; pressed, Teams sends it back as a message activity's ``value`` and the
channel hands the engine the same action a Slack or web button would. A reply that offers
a code form (:attr:`Reply.form`) gets an "Enter the code" button that opens a dialog
(``task/fetch``, see ``codeform``).

>>> renderer = TeamsRenderer(build_environment(), settings)            # doctest: +SKIP
>>> renderer.activity([Reply("Hello")])["attachments"][0]["contentType"]  # doctest: +SKIP
'application/vnd.microsoft.card.adaptive'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from bot.channels.teams import wording as teams_wording
from bot.conversation.actions import Action, FlowCommand, decode_action, encode_action
from bot.conversation.messages import Reply
from bot.render import article_url
from bot.settings import Settings

CARD = "application/vnd.microsoft.card.adaptive"
#: the key of a button's data that holds its encoded action
ACTION_KEY = "itbot"
#: the key of the code dialog's data that holds the ``<flow>:<verb>`` it answers
FORM_KEY = "itbot_form"
MAX_LABEL = 60


@dataclass(frozen=True, slots=True)
class ButtonView:
    label: str
    data: dict[str, str]
    style: str


def button_data(action: Action, label: str) -> dict[str, str]:
    return {ACTION_KEY: encode_action(action), "label": label}


def pressed(value: object) -> tuple[Action, str] | None:
    """The action (and its label) a button press's ``value`` carries, or ``None``."""
    if not isinstance(value, dict):
        return None
    raw = value.get(ACTION_KEY)
    if not isinstance(raw, str) or len(raw) > 2000:
        return None
    action = decode_action(raw)
    label = value.get("label")
    return (action, str(label)[:100] if isinstance(label, str) else "") if action else None


class TeamsRenderer:
    def __init__(self, env: Environment, settings: Settings) -> None:
        self.env = env
        self.settings = settings

    def activity(self, replies: Sequence[Reply], *, forms: bool = False) -> dict[str, Any]:
        """One message activity showing every reply of one turn; with ``forms``, a reply
        that asks for a code offers the code dialog."""
        parts = [self._part(reply) for reply in replies]
        code_form = None
        asking = next((r.form for r in replies if r.form), "") if forms else ""
        if asking and isinstance(decode_action(asking), FlowCommand):
            data = {"msteams": {"type": "task/fetch"}, FORM_KEY: asking}
            code_form = {"label": teams_wording.ENTER_CODE, "data": data}
        rendered = self._render("teams/message.json.j2", parts=parts, code_form=code_form)
        return {
            "type": "message",
            "text": rendered["text"],
            "attachments": [{"contentType": CARD, "content": rendered["card"]}],
        }

    def text(self, text: str) -> dict[str, Any]:
        return self.activity([Reply(text)])

    def card(self, template: str, **context: Any) -> dict[str, Any]:
        """An Adaptive Card from ``templates/<template>`` (the code dialog)."""
        return self._render(template, **context)

    def _part(self, reply: Reply) -> dict[str, Any]:
        return {
            "text": reply.text,
            "cards": [
                {
                    "title": card.title,
                    "summary": card.summary,
                    "url": article_url(card.article_id, self.settings.base_url),
                }
                for card in reply.cards
            ],
            "buttons": [
                ButtonView(
                    label=_short(button.label),
                    data=button_data(button.action, button.label),
                    style=button.style,
                )
                for button in reply.buttons
            ],
            "notes": reply.notes,
        }

    def _render(self, name: str, **context: Any) -> dict[str, Any]:
        data = json.loads(self.env.get_template(name).render(**context))
        if not isinstance(data, dict):
            raise TypeError(f"{name} must render a JSON object")
        return data


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
