"""Button presses (``block_actions``): a press continues the conversation it belongs to.

The Home tab's "Raise a ticket" opens the ticket form instead (before the ack, while the
``trigger_id`` is valid), and starts ``raise_ticket`` in the DM only if it can't be opened.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.channels.slack import forms, jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def press(ack: AsyncAck, body: dict[str, Any]) -> None:
        job = jobs.from_action(body)
        trigger_id = str(body.get("trigger_id") or "")
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
