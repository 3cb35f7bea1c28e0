"""Talking to the Bot Connector: the bot's token, replies, proactive messages, members.

The bot's bearer token comes from the client-credentials grant at the token URL
(``ITBOT_TEAMS_TOKEN_URL``) and is cached until shortly before it expires; it is never
logged. Every URL is built from an activity's ``serviceUrl``, which must be on the
allow-list of service hosts (``ITBOT_TEAMS_SERVICE_HOSTS``) — a forged or misrouted
activity cannot make the bot send its token elsewhere.

A send is tried again on a connection error, a 429 or a 5xx (after 0.5 s, 1 s, 2 s); a 401
fetches a new token once. What still fails raises :class:`DeliveryError`, and the caller
keeps the message (the outbox tries again, or the person sees it at their next turn).

>>> connector = Connector(session, settings)                         # doctest: +SKIP
>>> await connector.send(service_url, conversation_id, {"type": "message", "text": "Hi"})
...                                                                  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.settings import Settings
from bot.settings.teams import allowed

__all__ = ["Connector", "DeliveryError", "NotAllowed", "allowed"]

log = logging.getLogger(__name__)

SCOPE = "https://api.botframework.com/.default"
RETRY_DELAYS = (0.5, 1.0, 2.0)
_TIMEOUT = aiohttp.ClientTimeout(total=15)


class DeliveryError(Exception):
    """The Bot Connector did not take a message (or a lookup); safe to say in a log.

    ``final``: it refused (a 4xx other than 429), so trying again will not help.
    """

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class NotAllowed(DeliveryError):
    """A ``serviceUrl`` whose host is not on the allow-list."""


class Connector:
    """The Bot Connector REST API as the bot uses it."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        assert settings.teams_app_id and settings.teams_app_password is not None
        self.session = session
        self.settings = settings
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def check(self, service_url: str) -> None:
        if not allowed(service_url, self.settings.teams_service_hosts):
            raise NotAllowed(f"service host of {service_url[:80]!r} is not allowed", final=True)

    async def send(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        reply_to: str = "",
        retry: bool = True,
    ) -> str:
        """Post ``activity`` in the conversation (as a reply to ``reply_to`` when given);
        the new activity's id."""
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities"
        if reply_to:
            path += f"/{quote(reply_to, safe='')}"
        data = await self._call("POST", service_url, path, activity, retry=retry)
        return str(data.get("id") or "")

    async def start_thread(
        self,
        service_url: str,
        channel_id: str,
        activity: dict[str, Any],
        *,
        tenant_id: str | None = None,
        retry: bool = True,
    ) -> tuple[str, str]:
        """Post ``activity`` as a new thread in a team's channel (``POST v3/conversations``);
        the thread's conversation id (``<channel>;messageid=<id>``) and the activity's id."""
        channel_data: dict[str, Any] = {"channel": {"id": channel_id}}
        if tenant_id:
            channel_data["tenant"] = {"id": tenant_id}
        body = {"isGroup": True, "channelData": channel_data, "activity": activity}
        data = await self._call("POST", service_url, "v3/conversations", body, retry=retry)
        activity_id = str(data.get("activityId") or "")
        conversation = str(data.get("id") or "")
        if not conversation or not activity_id:
            raise DeliveryError("the Bot Connector gave no conversation or activity id")
        return conversation, activity_id

    async def update(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
        *,
        retry: bool = True,
    ) -> None:
        """Replace the activity ``activity_id`` (a card) with ``activity``."""
        path = (
            f"v3/conversations/{quote(conversation_id, safe='')}"
            f"/activities/{quote(activity_id, safe='')}"
        )
        await self._call("PUT", service_url, path, {**activity, "id": activity_id}, retry=retry)

    async def member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any]:
        """The member lookup: name, email / UPN and Entra object id of ``user_id``."""
        path = (
            f"v3/conversations/{quote(conversation_id, safe='')}/members/{quote(user_id, safe='')}"
        )
        return await self._call("GET", service_url, path, None)

    async def _call(
        self,
        method: str,
        service_url: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        retry: bool = True,
    ) -> dict[str, Any]:
        """One call; with ``retry`` tried again here on a connection error, 429 or 5xx
        (without, once: the caller's outbox tries again later)."""
        self.check(service_url)
        url = service_url if service_url.endswith("/") else service_url + "/"
        url += path
        fresh_token = False
        # without retries a second turn is only for a fresh token after a 401
        delays = (*RETRY_DELAYS, None) if retry else (None, None)
        for attempt, delay in enumerate(delays):
            token = await self._bearer(renew=fresh_token)
            try:
                async with self.session.request(
                    method,
                    url,
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=_TIMEOUT,
                ) as response:
                    status = response.status
                    if status < 300:
                        data = await response.json(content_type=None)
                        return data if isinstance(data, dict) else {}
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = 0
                reason = type(exc).__name__
            else:
                reason = f"HTTP {status}"
            if status == 401 and not fresh_token:
                fresh_token = True  # the token was revoked or rotated: one more try
                continue
            if status not in (0, 429) and status < 500:
                raise DeliveryError(f"{method} {_what(path)}: {reason}", final=True)
            if delay is None:
                break
            log.info(
                "teams: %s failed (%s), try %d; again in %.1fs", method, reason, attempt + 1, delay
            )
            await asyncio.sleep(delay)
        raise DeliveryError(f"{method} to the Bot Connector failed: {reason}")

    async def _bearer(self, *, renew: bool = False) -> str:
        """The bot's token from the client-credentials grant, cached until near expiry."""
        if not renew and self._token and time.monotonic() < self._expires:
            return self._token
        async with self._lock:
            if not renew and self._token and time.monotonic() < self._expires:
                return self._token
            secret = self.settings.teams_app_password
            assert secret is not None and self.settings.teams_app_id
            form = {
                "grant_type": "client_credentials",
                "client_id": self.settings.teams_app_id,
                "client_secret": secret.reveal(),
                "scope": SCOPE,
            }
            try:
                async with self.session.post(
                    self.settings.teams_token_endpoint, data=form, timeout=_TIMEOUT
                ) as response:
                    if response.status >= 300:
                        raise DeliveryError(f"the token endpoint answered HTTP {response.status}")
                    data = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DeliveryError(f"the token endpoint failed: {type(exc).__name__}") from exc
            token = str(data.get("access_token") or "") if isinstance(data, dict) else ""
            if not token:
                raise DeliveryError("the token endpoint gave no access_token")
            lifetime = float(data.get("expires_in") or 3600)
            self._token = token
            self._expires = time.monotonic() + max(lifetime - 300, lifetime / 2)
            return token


def _what(path: str) -> str:
    """What a call was about, for a log line (no ids): ``activities``, ``members``, …"""
    parts = path.split("/")
    return parts[3] if len(parts) > 3 else parts[-1]
