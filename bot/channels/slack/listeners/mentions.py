"""@mentions in channels (``app_mention``): answered in a thread under the message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.channels.slack import jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def mention(
        ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        job = jobs.from_mention(event, context.bot_user_id)
        if job is not None:
            await recorder.record(dedupe_key("event", body), job)
        await ack()

    app.event("app_mention")(mention)
