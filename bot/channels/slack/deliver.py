"""Sending what the bot says: each delivery is a small JSON-able operation.

Operations are stored in the inbox row (its ``outbox``) before the first is sent, so a
restart sends the missing ones instead of running the turn again:

``post``      chat.postMessage in a channel or DM (in a thread when ``thread_ts``)
``respond``   a slash command's or ephemeral message's ``response_url`` (ephemeral);
              falls back to chat.postEphemeral when the URL has expired
``dm``        conversations.open + chat.postMessage: private replies go here
``ephemeral`` chat.postEphemeral: a note only the person sees
``update``    chat.update: mark which button was pressed
``publish``   views.publish: the App Home tab
``view``      views.update: the code form, replaced by its answer (a temporary password)

An op may carry ``"stored"``: what the inbox keeps instead of it (an op that shows a
secret is never stored; after a restart its stand-in is sent).
``react``     reactions.add: acknowledge a message (e.g. an agent's relayed reply)
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.channels.slack.client import is_slack_url, retry_handlers
from bot.settings import Settings

log = logging.getLogger(__name__)

Op = dict[str, Any]

#: Web API errors that a later retry can fix; any other error is final for that delivery
RETRYABLE = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class DeliveryError(Exception):
    """Slack could not take a delivery now; the inbox row is retried later."""


class Deliverer:
    def __init__(
        self, client: AsyncWebClient, session: aiohttp.ClientSession, settings: Settings
    ) -> None:
        self.client = client
        self.session = session
        self.settings = settings
        self._dm_channels: dict[str, str] = {}

    async def send(self, op: Op) -> None:
        kind = op["op"]
        try:
            if kind == "post":
                await self._post(op["channel"], op["message"], op.get("thread_ts") or None)
            elif kind == "dm":
                await self._post(await self.dm_channel(op["user"]), op["message"], None)
            elif kind == "respond":
                await self._respond(op)
            elif kind == "ephemeral":
                await self._ephemeral(op)
            elif kind == "update":
                message = op["message"]
                await self.client.chat_update(
                    channel=op["channel"],
                    ts=op["ts"],
                    text=message["text"],
                    blocks=message["blocks"],
                )
            elif kind == "view":
                await self.client.views_update(view_id=op["view_id"], view=op["view"])
            elif kind == "publish":
                await self.client.views_publish(user_id=op["user"], view=op["view"])
            elif kind == "react":
                await self.client.reactions_add(
                    channel=op["channel"], timestamp=op["ts"], name=op["name"]
                )
            else:
                raise ValueError(f"unknown Slack delivery {kind!r}")
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            status = int(exc.response.status_code or 0)
            if error == "already_reacted":
                return
            if error in RETRYABLE or status == 429 or status >= 500:
                raise DeliveryError(f"slack {kind} failed: {error or status}") from None
            # final (e.g. channel_not_found, invalid_blocks): retrying cannot help
            log.warning("slack %s was refused: %s", kind, error or status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"slack {kind} failed: {type(exc).__name__}") from None

    async def dm_channel(self, user: str) -> str:
        channel = self._dm_channels.get(user)
        if channel is None:
            response = await self.client.conversations_open(users=user)
            channel = str(response["channel"]["id"])
            self._dm_channels[user] = channel
        return channel

    async def _post(self, channel: str, message: dict[str, Any], thread_ts: str | None) -> None:
        await self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=message["text"],
            blocks=message["blocks"],
            unfurl_links=False,
            unfurl_media=False,
        )

    async def _ephemeral(self, op: Op) -> None:
        message = op["message"]
        await self.client.chat_postEphemeral(
            channel=op["channel"],
            user=op["user"],
            thread_ts=op.get("thread_ts") or None,
            text=message["text"],
            blocks=message["blocks"],
        )

    async def _respond(self, op: Op) -> None:
        url = str(op.get("url") or "")
        if url and is_slack_url(url, self.settings):
            webhook = AsyncWebhookClient(
                url, session=self.session, timeout=15, retry_handlers=retry_handlers()
            )
            body = {"response_type": "ephemeral", "replace_original": False, **op["message"]}
            response = await webhook.send_dict(body)
            if response.status_code == 200:
                return
            if response.status_code == 429 or response.status_code >= 500:
                raise DeliveryError(f"slack respond failed: {response.status_code}")
            log.info("response_url refused (%s); posting ephemerally", response.status_code)
        elif url:
            log.warning("not posting to a response_url outside Slack")
        if op.get("channel") and op.get("user"):
            await self._ephemeral(op)
