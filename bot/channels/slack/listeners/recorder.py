"""What a listener may do before its ack (the channel implements it)."""

from __future__ import annotations

from typing import Protocol

from bot.channels.slack.jobs import Job


class Recorder(Protocol):
    """What a listener may do before its ack: record a job, or open the ticket form."""

    async def record(self, key: str, job: Job) -> bool:
        """Record ``job`` durably under ``key``; ``False`` if it was recorded before."""
        ...

    async def open_ticket_form(self, trigger_id: str, *, text: str = "") -> bool:
        """Open the ticket form modal now (see ``forms``); ``False`` if it didn't open."""
        ...
