"""The Microsoft Teams channel: the only code that knows Teams or the Bot Connector.

``register(app)`` mounts ``POST /api/messages`` (guarded by the Bot Connector's token, see
``auth``; nothing else on the app is) and a ``cleanup_ctx`` that runs the channel.

Built on plain aiohttp + PyJWT rather than the Microsoft 365 Agents SDK
(``microsoft-agents-hosting-aiohttp`` 1.9): its ``jwt_authorization_decorator`` could guard
this one route, but its check runs on the header alone, before the body, while we must
compare the token's ``serviceurl`` claim with the activity's ``serviceUrl``; and its
``CloudAdapter`` wants to run the turn itself. The token check, the client-credentials
grant and three REST calls are small enough to own and to test against a local fake.

How an activity travels::

    Bot Connector ─JWT→ /api/messages: token checked → member lookup → Incoming → engine
                        → Reply → Adaptive Card → {serviceUrl}v3/conversations/{id}/activities
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.teams.channel import CHANNEL, TeamsChannel

MESSAGES_PATH = "/api/messages"
TEAMS = web.AppKey("teams", TeamsChannel)


def register(app: web.Application) -> None:
    """Mount the Teams channel; call after the services' ``cleanup_ctx`` is added."""
    from bot.web import keys

    settings = app[keys.SETTINGS]
    channel = TeamsChannel(settings)
    app[TEAMS] = channel
    app.router.add_post(MESSAGES_PATH, channel.handle_http)

    async def teams_ctx(app: web.Application) -> AsyncIterator[None]:
        services = app[keys.SERVICES]
        async with channel.running(
            db=services.db,
            engine=app[keys.ENGINE],
            templates=app[keys.TEMPLATES],
            notifier=services.notifier,
            desk=services.desk,
        ):
            yield

    app.cleanup_ctx.append(teams_ctx)


__all__ = ["CHANNEL", "MESSAGES_PATH", "TEAMS", "TeamsChannel", "register"]
