"""Direct messages to the bot (``message.im``) and agents' replies in triage threads.

Thread replies in the triage channel (``message.channels``/``message.groups``) are an
agent talking to a ticket's requester; messages anywhere else in channels are not ours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.channels.slack import jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder


def register(app: AsyncApp, recorder: Recorder, *, triage_channel: str | None = None) -> None:
    async def direct_message(
        ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        job = jobs.from_message(event, context.bot_user_id) or jobs.from_channel_reply(
            event, triage_channel
        )
        if job is not None:
            await recorder.record(dedupe_key("event", body), job)
        await ack()

    async def other_message(ack: AsyncAck) -> None:
        """Edits, deletions, joins, other bots: nothing to answer."""
        await ack()

    app.event({"type": "message", "subtype": None})(direct_message)
    app.event("message")(other_message)
