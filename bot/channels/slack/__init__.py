"""The Slack channel: the only code that knows Slack.

``register(app)`` mounts it on the aiohttp application built by ``bot.app.create_app``:
``POST /slack/events`` (HTTP mode, when ``SLACK_SIGNING_SECRET`` is set), Socket Mode (when
``SLACK_APP_TOKEN`` is set), and a ``cleanup_ctx`` that runs the inbox and its worker.

How a request travels::

    Slack ─signed→ bolt (verify, listener: payload → Job) → inbox row ─→ ack (200)
                                                              ↓ after the ack, any replica
    worker: claim row → users.info → Incoming → engine → Reply → Block Kit → Web API
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.slack.channel import SlackChannel

EVENTS_PATH = "/slack/events"
SLACK = web.AppKey("slack", SlackChannel)


def register(app: web.Application) -> None:
    """Mount the Slack channel; call after the services' ``cleanup_ctx`` is added."""
    from bot.web import keys

    settings = app[keys.SETTINGS]
    channel = SlackChannel(settings)
    app[SLACK] = channel
    if settings.slack_signing_secret is not None:
        app.router.add_post(EVENTS_PATH, channel.handle_http)

    async def slack_ctx(app: web.Application) -> AsyncIterator[None]:
        services = app[keys.SERVICES]
        async with channel.running(
            db=services.db,
            engine=app[keys.ENGINE],
            templates=app[keys.TEMPLATES],
            knowledge=lambda: services.knowledge.kb,
            desk=services.desk,
            notifier=services.notifier,
        ):
            yield

    app.cleanup_ctx.append(slack_ctx)


__all__ = ["EVENTS_PATH", "SLACK", "SlackChannel", "register"]
