"""The desk's mailbox in Exchange Online, through Microsoft Graph (plain aiohttp).

A token from the client-credentials grant (kept until shortly before it expires); unread
mail from a delta query on the mailbox's inbox (``messages/delta``, following
``@odata.nextLink`` pages, then the ``@odata.deltaLink`` for the next round); each mail's
MIME (``$value``) goes through the same :class:`~bot.channels.email.process.MailProcessor`
as IMAP mail, and is marked read (``isRead``) after that commits. Replies are sent as
MIME through ``sendMail``, so they carry the same threading headers as SMTP ones.

The delta link lives in memory: after a restart the first round enumerates the inbox
again and the record of mail acted on (``email_messages``) keeps it from acting twice.
Errors become :class:`~bot.channels.email.imap.MailboxError`, never with the secret.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.channels.email.imap import MailboxError
from bot.channels.email.process import MailProcessor, Result
from bot.settings import Settings

log = logging.getLogger(__name__)

SCOPE = "https://graph.microsoft.com/.default"
#: a token is renewed this many seconds before it expires
EARLY = 120.0


class GraphMail:
    """Reads and sends the desk's mail through Graph. Use inside ``async with``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        login = settings.email_graph_login_url
        self._token_url = f"{login}{settings.email_graph_tenant}/oauth2/v2.0/token"
        secret = settings.email_graph_client_secret
        self._form = {
            "grant_type": "client_credentials",
            "client_id": settings.email_graph_client_id or "",
            "client_secret": secret.reveal() if secret else "",
            "scope": SCOPE,
        }
        mailbox = quote(settings.email_address or "", safe="@")
        self._base = f"{settings.email_graph_url}users/{mailbox}/"
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.delta_link: str | None = None

    async def __aenter__(self) -> GraphMail:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30), trust_env=False
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None

    # -- the token ----------------------------------------------------------------------

    async def _bearer(self, renew: bool = False) -> str:
        async with self._lock:
            if renew or self._token is None or time.monotonic() >= self._expires:
                async with self._need().post(self._token_url, data=self._form) as response:
                    data = await _json(response)
                    if response.status != 200 or not isinstance(data.get("access_token"), str):
                        raise MailboxError(
                            f"Entra refused the mail app's credentials ({response.status})"
                        )
                lifetime = data.get("expires_in", 3600)
                self._token = str(data["access_token"])
                self._expires = time.monotonic() + max(0.0, float(lifetime) - EARLY)
            return self._token

    async def _call(
        self, method: str, url: str, *, what: str, **options: Any
    ) -> aiohttp.ClientResponse:
        """One request with the bearer token (renewed once on a 401); the response, read."""
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {await self._bearer(renew)}"}
            headers.update(options.pop("headers", {}))
            try:
                response = await self._need().request(method, url, headers=headers, **options)
                await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise MailboxError(f"cannot reach Graph to {what} ({type(exc).__name__})") from None
            if response.status == 401 and not renew:
                continue
            if response.status >= 400:
                raise MailboxError(f"Graph answered {response.status} to {what}")
            return response
        raise MailboxError(f"Graph refused the token to {what}")

    def _need(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise MailboxError("the Graph mailbox is not open")
        return self._session

    # -- reading ------------------------------------------------------------------------

    async def unread(self) -> list[str]:
        """Ids of unread, unflagged mail in the inbox since the last round (all of it, the
        first time)."""
        url = self.delta_link or (
            f"{self._base}mailFolders/inbox/messages/delta?$select=isRead,flag,internetMessageId"
        )
        found: list[str] = []
        while True:
            response = await self._call("GET", url, what="read the inbox")
            data = await _json(response)
            for item in data.get("value", []):
                if isinstance(item, dict) and "@removed" not in item and not item.get("isRead"):
                    flag = item.get("flag")
                    if isinstance(flag, dict) and flag.get("flagStatus") == "flagged":
                        continue  # set aside (or a person's to deal with): never read
                    found.append(str(item.get("id", "")))
            if isinstance(data.get("@odata.nextLink"), str):
                url = data["@odata.nextLink"]
                continue
            if isinstance(data.get("@odata.deltaLink"), str):
                self.delta_link = data["@odata.deltaLink"]
            return [i for i in found if i]

    async def mime(self, message_id: str) -> bytes:
        url = f"{self._base}messages/{quote(message_id, safe='')}/$value"
        response = await self._call("GET", url, what="fetch a mail")
        return await response.read()

    async def mark_read(self, message_id: str) -> None:
        url = f"{self._base}messages/{quote(message_id, safe='')}"
        await self._call("PATCH", url, what="mark a mail read", json={"isRead": True})

    async def set_aside(self, message_id: str) -> None:
        """Flag a mail and leave it unread, for a person."""
        url = f"{self._base}messages/{quote(message_id, safe='')}"
        flag = {"flag": {"flagStatus": "flagged"}}
        await self._call("PATCH", url, what="flag a mail", json=flag)

    # -- sending ------------------------------------------------------------------------

    async def send(self, recipient: str, raw: str) -> None:
        """Send a whole MIME message as it is (Graph takes it base64-encoded)."""
        body = base64.b64encode(raw.encode())
        await self._call(
            "POST",
            f"{self._base}sendMail",
            what="send a mail",
            data=body,
            headers={"Content-Type": "text/plain"},
        )


class GraphReader:
    """The Graph twin of :class:`~bot.channels.email.reader.Reader`."""

    def __init__(
        self, graph: GraphMail, processor: MailProcessor, on_mail: Callable[[], None]
    ) -> None:
        self.graph = graph
        self.processor = processor
        self.on_mail = on_mail

    async def run(self, stop: asyncio.Event) -> None:
        every = float(self.graph.settings.email_poll_seconds)
        log.info("email: reading %s through Graph", self.graph.settings.email_address)
        while not stop.is_set():
            try:
                await self.round(stop)
            except MailboxError as exc:
                log.warning("email (graph): %s", exc)
            except Exception:
                log.exception("email (graph): reading the mailbox failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)

    async def round(self, stop: asyncio.Event) -> None:
        for message_id in await self.graph.unread():
            if stop.is_set():
                return
            raw = await self.graph.mime(message_id)
            try:
                result = await self.processor.handle(raw, f"graph:{message_id}")
            except Exception:
                log.exception("email (graph): a mail could not be acted on")
                result = Result("failed")
            if result.outcome in ("waiting", "failed"):
                self.graph.delta_link = None  # the next round enumerates it again
                continue
            if result.outcome == "set-aside":
                await self.graph.set_aside(message_id)
                continue
            await self.graph.mark_read(message_id)
            self.on_mail()


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return data if isinstance(data, dict) else {}
