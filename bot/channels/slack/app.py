"""The bolt ``AsyncApp``: request verification, authorization and our listeners.

``process_before_response=True``: a listener runs to its end before bolt answers Slack, so
"recorded in the inbox" always happens before "acknowledged". Listeners only record; the
slow work happens in the worker after the ack.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.channels.slack import listeners
from bot.channels.slack.client import web_client
from bot.channels.slack.listeners import Recorder
from bot.settings import Settings


def build_bolt_app(settings: Settings, recorder: Recorder) -> AsyncApp:
    """A bolt app whose listeners record jobs with ``recorder``; no I/O happens here.

    >>> app = build_bolt_app(settings, inbox)  # doctest: +SKIP
    """
    secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else ""
    app = AsyncApp(
        name="itbot",
        # bolt calls auth.test once with this client (and hands listeners a copy we don't use)
        client=web_client(settings),
        signing_secret=secret,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        # listeners only record jobs: no say()/respond() helpers, no workflow-step tokens
        attaching_conversation_kwargs_enabled=False,
        attaching_function_token_enabled=False,
    )
    listeners.register(app, recorder, triage_channel=settings.slack_triage_channel)
    return app
