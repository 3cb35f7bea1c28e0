"""The code dialog: a Teams task module for a one-time code, so neither the code nor what
it unlocks (a temporary password) ever enters a chat's history.

A reply with :attr:`Reply.form` (``"<flow>:code_form"``) gets an "Enter the code" button
(``Action.Submit`` with ``msteams.type = task/fetch``, see ``render``). Pressing it sends an
``invoke`` ``task/fetch``, answered with this dialog; its submission is an ``invoke``
``task/submit`` whose answer is the dialog again (a wrong or expired code, or not digits),
or the result, a temporary password shown here once. The HTTP answer to an invoke is the
dialog itself: nothing of it is stored, and the chat gets only what may be kept there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import web

from bot.channels.teams import wording as teams_wording
from bot.channels.teams.render import CARD, FORM_KEY, TeamsRenderer
from bot.conversation.actions import FlowCommand, decode_action
from bot.conversation.messages import Reply

#: the verb of a code form's state (``<flow>:code_form``) and its one field
VERB, FIELD = "code_form", "code"
_CODE = re.compile(r"\d{6,10}")


def state_of(data: object) -> str | None:
    """The ``<flow>:code_form`` state a dialog's data names, or ``None``."""
    if not isinstance(data, dict):
        return None
    raw = data.get(FORM_KEY)
    action = decode_action(raw) if isinstance(raw, str) and len(raw) < 200 else None
    if isinstance(action, FlowCommand) and action.verb == VERB:
        return action.state
    return None


def code_of(data: dict[str, object]) -> str | None:
    """The code typed in the dialog (spaces and dashes dropped), if it is 6 to 10 digits."""
    raw = data.get(FIELD)
    if not isinstance(raw, str):
        return None
    typed = re.sub(r"[\s-]", "", raw)
    return typed if _CODE.fullmatch(typed) else None


def dialog(renderer: TeamsRenderer, state: str, *, message: str = "") -> web.Response:
    """The dialog asking for the code (again, with ``message`` saying why)."""
    card = renderer.card(
        "teams/code_form.json.j2",
        title=teams_wording.CODE_TITLE,
        message=message,
        data={FORM_KEY: state},
        field=FIELD,
        label=teams_wording.CODE_LABEL,
        hint=teams_wording.CODE_HINT,
    )
    return _continue(card)


def answer(renderer: TeamsRenderer, state: str, replies: Sequence[Reply]) -> web.Response:
    """The submitted dialog's answer: the dialog again while a code is still asked for,
    else the replies, a private one (a temporary password) shown once."""
    asking = next((r for r in replies if r.form), None)
    if asking is not None:
        text = "\n\n".join(r.text for r in replies if not r.private)
        return dialog(renderer, asking.form, message=text)
    card = renderer.card(
        "teams/code_result.json.j2",
        texts=[r.text for r in replies],
        shown_once=any(r.private for r in replies),
        shown_once_note=teams_wording.SHOWN_ONCE,
    )
    return _continue(card)


def message(text: str) -> web.Response:
    """A dialog answer that is just a short message."""
    return web.json_response({"task": {"type": "message", "value": text[:500]}})


def _continue(card: dict[str, object]) -> web.Response:
    value = {
        "title": teams_wording.CODE_TITLE,
        "height": "small",
        "width": "medium",
        "card": {"contentType": CARD, "content": card},
    }
    return web.json_response({"task": {"type": "continue", "value": value}})
