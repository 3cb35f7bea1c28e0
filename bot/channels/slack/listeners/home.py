"""The App Home tab (``app_home_opened``): published again each time it is opened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.channels.slack import jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def home_opened(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        job = jobs.from_home(event)
        if job is not None:
            await recorder.record(dedupe_key("event", body), job)
        await ack()

    app.event("app_home_opened")(home_opened)
