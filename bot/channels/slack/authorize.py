"""Who the bot is, without asking Slack: the ack never waits on Slack's Web API.

Bolt's single-workspace authorization calls ``auth.test`` on the first request to learn the
bot's user id, and answers ``500`` while Slack's API can't be reached (and asks again on
every request until it can). Ours makes no call: the token comes from the settings and the
bot's user id from the signed request itself, since every Events API delivery (HTTP or
Socket Mode) names the bot it was delivered to in ``authorizations``. Commands and
interactivity carry no ``authorizations``; their listeners don't need the bot's user id,
and bolt gets the last one a signed event named. Everything that does talk to Slack runs
after the ack, in the worker, with its retries.

>>> who = BotAuthorization(token=None)
>>> who.learn({"authorizations": [{"user_id": "UBOT", "is_bot": True}]})
'UBOT'
>>> who.learn({"type": "block_actions"})  # no authorizations: the last one named
'UBOT'
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

#: where :class:`NoteBotUser` leaves the request's bot user id for :class:`BotAuthorization`
_BOT_USER = "itbot_request_bot_user_id"


def authorized_bot(payload: dict[str, Any]) -> str | None:
    """The bot user the signed event was delivered to (its ``authorizations``), if named.

    >>> authorized_bot({"authorizations": [{"user_id": "UBOT", "is_bot": True}]})
    'UBOT'
    >>> authorized_bot({"authorizations": "x"}) is None
    True
    """
    authorizations = payload.get("authorizations")
    if not isinstance(authorizations, list):
        return None
    for item in authorizations:
        if isinstance(item, dict) and item.get("is_bot") and isinstance(item.get("user_id"), str):
            return str(item["user_id"]) or None
    return None


class BotAuthorization(AsyncAuthorize):
    """Bolt's ``authorize``: the configured token and the bot user id the request named."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        #: the bot user id the last signed event named (``None`` until one did)
        self.bot_user_id: str | None = None

    def learn(self, payload: Any) -> str | None:
        """The bot user id ``payload`` names, else the last one learnt; never a Web API call."""
        named = authorized_bot(payload) if isinstance(payload, dict) else None
        if named is not None:
            self.bot_user_id = named
        return named or self.bot_user_id

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=self.token,
            bot_user_id=context.get(_BOT_USER) or self.bot_user_id,
            user_id=user_id,
        )


class NoteBotUser(AsyncMiddleware):
    """Bolt's ``before_authorize``: what the signed body says about the bot, for
    :class:`BotAuthorization` (which sees only bolt's context)."""

    def __init__(self, authorization: BotAuthorization) -> None:
        self.authorization = authorization

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # bolt's name for it
    ) -> BoltResponse | None:
        req.context[_BOT_USER] = self.authorization.learn(req.body)
        return await next()
