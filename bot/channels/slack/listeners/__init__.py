"""Bolt listeners, one module per surface. Each acks after recording the job, nothing more.

A listener turns the Slack payload into a :class:`~bot.channels.slack.jobs.Job`, records it
in the inbox (durably, de-duplicated) and acks; the worker does the rest after the ack.
HTTP mode and Socket Mode dispatch to these same listeners.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.channels.slack.listeners.recorder import Recorder

__all__ = ["Recorder", "register"]


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
