"""Slack Web API clients: ``AsyncWebClient`` at ``ITBOT_SLACK_API_URL`` with retry handlers.

Rate limits (HTTP 429) are waited out for as long as ``Retry-After`` says, then the call is
made again (slack_sdk's ``AsyncRateLimitErrorRetryHandler``); dropped connections and
Slack's 500/503 are retried once too.

>>> client = web_client(settings, session)  # doctest: +SKIP
>>> await client.auth_test()                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

#: how many times one call waits out a 429 before the work is retried later from the inbox
RATE_LIMIT_RETRIES = 3
TIMEOUT = 15


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=1),
    ]


#: loggers that write whole request and response bodies at DEBUG (views with a temporary
#: password, a submitted code): never below INFO, whatever the root logger's level
SDK_LOGGERS = ("slack_sdk", "slack_bolt")


def quiet_sdk_loggers() -> None:
    """Keep slack_sdk's and bolt's DEBUG lines (request bodies) from being written at all."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET too: it would follow the root logger
            logger.setLevel(logging.INFO)


def web_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The bot's Web API client; ``session`` is shared by every call when given."""
    token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        timeout=TIMEOUT,
        retry_handlers=retry_handlers(),
    )


def is_slack_url(url: str, settings: Settings) -> bool:
    """Whether ``url`` may be posted to: Slack's own hosts, or the configured API's host.

    ``response_url`` comes inside a verified request, but the bot still only ever posts
    answers to Slack (``ITBOT_SLACK_API_URL``'s host counts, for a local fake).
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and (
        parts.hostname == "slack.com" or (parts.hostname or "").endswith(".slack.com")
    ):
        return True
    api = urlsplit(settings.slack_api_url)
    return (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port)
