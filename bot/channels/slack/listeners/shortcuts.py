"""The message shortcut "Raise an IT ticket": the ticket form, prefilled with that message.

The form (a modal, see ``forms``) is opened here, before the ack: a ``trigger_id`` is only
valid for three seconds. If it can't be opened, the shortcut starts ``raise_ticket`` with
the message's text in the person's DM instead, as it did before the form existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.channels.slack import jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def raise_ticket(ack: AsyncAck, body: dict[str, Any]) -> None:
        job = jobs.from_shortcut(body)
        if not await recorder.open_ticket_form(str(body.get("trigger_id") or ""), text=job.text):
            await recorder.record(dedupe_key("shortcut", body), job)
        await ack()

    app.shortcut(jobs.TICKET_SHORTCUT)(raise_ticket)
