"""Small helpers the Slack ticket handlers share: times, delivery marks, quoting.

A message the bot posts about a ticket carries a delivery mark in its metadata, so a
retry after a crash can look for it instead of posting twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.deliver import Op
from bot.desk.calendar import LONDON
from bot.render import mrkdwn_escape

log = logging.getLogger(__name__)

#: the metadata a relayed comment or a requester's DM carries, to find it after a crash
DELIVERY_EVENT = "itbot_delivery"


def local_time(moment: datetime) -> str:
    """A moment as agents read it: ``Mon 5 Jan 14:30`` in UK time.

    >>> from datetime import UTC
    >>> local_time(datetime(2026, 7, 6, 13, 30, tzinfo=UTC))
    'Mon 6 Jul 14:30'
    """
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def delivery(key: str) -> dict[str, Any]:
    return {"event_type": DELIVERY_EVENT, "event_payload": {"key": key}}


async def delivered(
    client: AsyncWebClient, channel: str, key: str, *, thread_ts: str | None = None
) -> str | None:
    """The ts of a message carrying delivery ``key`` among the latest in ``channel`` (or
    in the thread ``thread_ts``), if an earlier attempt posted it; else ``None``.

    Looks at the newest 200 messages: a retry comes seconds or minutes after the attempt.
    If Slack won't say (a missing history scope, say), sending twice beats not at all.
    """
    try:
        if thread_ts is not None:
            response = await client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
            )
        else:
            response = await client.conversations_history(
                channel=channel, include_all_metadata=True, limit=200
            )
    except SlackApiError as exc:
        log.warning("can't check %s for delivery %s: %s", channel, key, exc.response.get("error"))
        return None
    for message in response.get("messages") or ():
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == DELIVERY_EVENT and payload.get("key") == key:
            return str(message["ts"])
    return None


def react(channel: str, ts: str, name: str) -> Op:
    return {"op": "react", "channel": channel, "ts": ts, "name": name}


def esc(text: str) -> str:
    return mrkdwn_escape(text)


def quote(text: str) -> str:
    return "\n".join("> " + line for line in esc(text[:2800]).splitlines() or [""])
