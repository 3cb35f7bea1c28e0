"""The message shortcut "Raise an IT ticket": starts ``raise_ticket`` with that message's text.

The conversation continues in the person's DM with the bot. (When ticket forms exist, open
the modal here, before the ack: a ``trigger_id`` is only valid for three seconds.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.channels.slack import jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners import Recorder


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def raise_ticket(ack: AsyncAck, body: dict[str, Any]) -> None:
        await recorder.record(dedupe_key("shortcut", body), jobs.from_shortcut(body))
        await ack()

    app.shortcut(jobs.TICKET_SHORTCUT)(raise_ticket)
