"""Button presses (``block_actions``): a press continues the conversation it belongs to.

The Home tab's "Raise a ticket" opens the ticket form instead (before the ack, while the
``trigger_id`` is valid), and starts ``raise_ticket`` in the DM only if it can't be opened.
"Enter the code" opens the code form (see ``codeform``) and records nothing.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.channels.slack import forms, jobs
from bot.channels.slack.dedupe import dedupe_key
from bot.conversation.actions import FlowCommand

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder

log = logging.getLogger(__name__)


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def press(ack: AsyncAck, body: dict[str, Any]) -> None:
        trigger_id = str(body.get("trigger_id") or "")
        code_form = _code_form(body)
        if code_form is not None:
            state, thread = code_form
            if not await recorder.open_code_form(trigger_id, state=state, thread=thread):
                log.warning("the code form did not open; the button can be pressed again")
            await ack()
            return
        job = jobs.from_action(body)
        if forms.opened_from_home(body, job) and await recorder.open_ticket_form(trigger_id):
            await ack()
            return
        if job is not None:
            await recorder.record(dedupe_key("action", body), job)
        await ack()

    async def link(ack: AsyncAck) -> None:
        """Link buttons open in the browser; Slack still tells us, and wants an ack."""
        await ack()

    app.action(re.compile("^" + re.escape(jobs.ACTION_PREFIX)))(press)
    app.action(re.compile("^" + re.escape(jobs.LINK_PREFIX)))(link)


def _code_form(body: dict[str, Any]) -> tuple[str, str] | None:
    """The ``<flow>:<verb>`` state and the thread of an "Enter the code" press, else ``None``."""
    action = (body.get("actions") or [{}])[0]
    if action.get("action_id") != jobs.CODE_FORM_ID:
        return None
    decoded = jobs.decode_value(str(action.get("value") or ""))
    if decoded is None or not isinstance(decoded[0], FlowCommand):
        return None
    return decoded[0].state, decoded[1] or jobs.DM_THREAD
