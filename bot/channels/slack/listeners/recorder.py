"""What a listener may do before its ack (the channel implements it)."""

from __future__ import annotations

from typing import Any, Protocol

from bot.channels.slack.jobs import Job


class Recorder(Protocol):
    """What a listener may do before its ack: record a job, or open a form."""

    async def record(self, key: str, job: Job) -> bool:
        """Record ``job`` durably under ``key``; ``False`` if it was recorded before."""
        ...

    async def open_ticket_form(self, trigger_id: str, *, text: str = "") -> bool:
        """Open the ticket form modal now (see ``forms``); ``False`` if it didn't open."""
        ...

    async def open_code_form(self, trigger_id: str, *, state: str, thread: str) -> bool:
        """Open the code form modal now (see ``codeform``); ``False`` if it didn't open."""
        ...

    def code_form_checking(self, job: Job) -> dict[str, Any] | None:
        """The view a submitted code form shows while its code is checked (``None``: not
        running)."""
        ...
