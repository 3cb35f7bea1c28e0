"""The bolt ``AsyncApp``: request verification, authorization and our listeners.

``process_before_response=True``: a listener runs to its end before bolt answers Slack, so
"recorded in the inbox" always happens before "acknowledged". Listeners only record; the
slow work happens in the worker after the ack. Authorization makes no Web API call (see
:mod:`~bot.channels.slack.authorize`): bolt's own would call ``auth.test`` before the first
ack and answer ``500`` while Slack's API is unreachable.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import listeners
from bot.channels.slack.authorize import BotAuthorization, NoteBotUser
from bot.channels.slack.client import TIMEOUT
from bot.channels.slack.listeners import Recorder
from bot.settings import Settings


def build_bolt_app(
    settings: Settings, recorder: Recorder, authorization: BotAuthorization
) -> AsyncApp:
    """A bolt app whose listeners record jobs with ``recorder``; no I/O happens here.

    >>> app = build_bolt_app(settings, inbox, BotAuthorization(token))  # doctest: +SKIP
    """
    secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else ""
    app = AsyncApp(
        name="itbot",
        # bolt copies this client (base URL, timeout) for each request's listeners, which
        # don't use it; the token comes from ``authorize``
        client=AsyncWebClient(base_url=settings.slack_api_url, timeout=TIMEOUT),
        signing_secret=secret,
        before_authorize=NoteBotUser(authorization),
        authorize=authorization,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        # listeners only record jobs: no say()/respond() helpers, no workflow-step tokens
        attaching_conversation_kwargs_enabled=False,
        attaching_function_token_enabled=False,
    )
    listeners.register(app, recorder, triage_channel=settings.slack_triage_channel)
    return app
