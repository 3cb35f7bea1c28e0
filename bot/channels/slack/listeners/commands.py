"""``/itdesk [question]``: acked at once, answered privately through ``response_url``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.channels.slack import jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder

COMMAND = "/itdesk"


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def itdesk(ack: AsyncAck, command: dict[str, Any]) -> None:
        await recorder.record(dedupe_key("command", command), jobs.from_command(command))
        await ack()

    app.command(COMMAND)(itdesk)
