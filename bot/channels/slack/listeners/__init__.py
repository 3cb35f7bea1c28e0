"""Bolt listeners, one module per surface. Each acks after recording the job, nothing more.

A listener turns the Slack payload into a :class:`~bot.channels.slack.jobs.Job`, records it
in the inbox (durably, de-duplicated) and acks; the worker does the rest after the ack.
HTTP mode and Socket Mode dispatch to these same listeners.
"""

from __future__ import annotations

from typing import Protocol

from slack_bolt.async_app import AsyncApp

from bot.channels.slack.jobs import Job


class Recorder(Protocol):
    """What a listener may do before its ack: record a job, or open the ticket form."""

    async def record(self, key: str, job: Job) -> bool:
        """Record ``job`` durably under ``key``; ``False`` if it was recorded before."""
        ...

    async def open_ticket_form(self, trigger_id: str, *, text: str = "") -> bool:
        """Open the ticket form modal now (see ``forms``); ``False`` if it didn't open."""
        ...


def register(app: AsyncApp, recorder: Recorder, *, triage_channel: str | None = None) -> None:
    from bot.channels.slack.listeners import (
        actions,
        commands,
        home,
        mentions,
        messages,
        shortcuts,
        views,
    )

    messages.register(app, recorder, triage_channel=triage_channel)
    for module in (mentions, commands, actions, shortcuts, views, home):
        module.register(app, recorder)
