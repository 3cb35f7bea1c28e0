"""The ack fast path: Events API deliveries between a person and the bot, without bolt.

Most of what Slack posts to ``/slack/events`` is a person messaging the bot (``message.im``).
For those, bolt's generic dispatch (request object, context, middleware chain, listener
matching, building each listener's arguments, a Web API client copy per request) costs three
to four times the signature check itself. So for an ``event_callback`` whose event only
concerns the person and the bot — a direct message, the App Home tab being opened — the
route does exactly what bolt and our listener would do, once:

1. verify the signature and the five-minute timestamp window (slack_sdk's
   ``SignatureVerifier``, as bolt does): ``401`` if forged or stale;
2. parse the body once;
3. skip the bot's own events (bolt's ``IgnoringSelfEvents``) and events the listeners ack
   without recording (edits, deletions, other subtypes);
4. build the job with the same ``jobs.from_*`` function the bolt listener calls, and record
   it in the inbox under the same de-duplication key (durable before the ``200``).

Everything else goes to bolt unchanged: ``url_verification``, ``ssl_check``, slash commands,
interactivity (buttons, shortcuts, modals), and every event that happens in a channel
(mentions, thread replies in channels), where channel-specific listeners live. Socket Mode
always goes through bolt. A new bolt listener for an event this module takes (a DM or
``app_home_opened``) must be added to :func:`route` too; ``tests/slack`` checks that both
paths record the same job.

>>> route({"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_home_opened",
...        "user": "U1", "tab": "home"}}, "UBOT").key
'event:Ev1'
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.channels.slack import jobs
from bot.channels.slack.dedupe import dedupe_key
from bot.channels.slack.jobs import Job

if TYPE_CHECKING:
    from bot.channels.slack.authorize import BotAuthorization
    from bot.channels.slack.listeners import Recorder

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Routed:
    """What the listeners would do with a delivery: record ``job`` under ``key``, or just ack."""

    key: str
    job: Job | None


def route(payload: dict[str, Any], bot_user_id: str) -> Routed | None:
    """The fast path's decision for a parsed, verified body; ``None``: bolt decides.

    Mirrors ``listeners.messages`` (``message`` events without a subtype → ``from_message``,
    with one → ack only) for direct messages, and ``listeners.home``.
    """
    if payload.get("type") != "event_callback":
        return None
    event = payload.get("event")
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    if kind == "message" and event.get("channel_type") == "im":
        if event.get("subtype") is not None:
            return Routed(dedupe_key("event", payload), None)
        job = jobs.from_message(event, bot_user_id)
    elif kind == "app_home_opened":
        job = jobs.from_home(event)
    else:
        return None
    if event.get("user") == bot_user_id:  # the bot's own event: bolt acks and drops it
        job = None
    return Routed(dedupe_key("event", payload), job)


class FastPath:
    """Answers the deliveries :func:`route` takes; returns ``None`` for bolt's share."""

    def __init__(
        self,
        signing_secret: str,
        recorder: Recorder,
        authorization: BotAuthorization,
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.recorder = recorder
        self.authorization = authorization

    async def __call__(self, request: web.Request) -> web.Response | None:
        body = await request.read()  # cached: bolt can still read it if we pass
        if not body.startswith(b"{"):  # commands, interactivity, ssl_check: form bodies
            return None
        headers = request.headers
        try:
            valid = self.verifier.is_valid(
                body,
                headers.get("X-Slack-Request-Timestamp"),
                headers.get("X-Slack-Signature"),
            )
        except ValueError:  # a timestamp that isn't a number, a body that isn't UTF-8
            valid = False
        if not valid:
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("type") != "event_callback":
            return None
        # the ack never waits on Slack's Web API (it may be unreachable): the bot's own id
        # comes with the signed event (see ``authorize``)
        bot_user_id = self.authorization.learn(payload)
        if bot_user_id is None:
            return None  # bolt records it as it would without us (no Web API call either)
        routed = route(payload, bot_user_id)
        if routed is None:
            return None
        if routed.job is not None:
            try:
                await self.recorder.record(routed.key, routed.job)
            except Exception:  # Slack delivers it again
                log.exception("could not record Slack event %s", routed.key)
                return web.Response(status=500)
        return web.Response(status=200)
