"""A local fake of the parts of Microsoft Graph mail the email channel uses, over real HTTP.

The Entra token endpoint (client credentials), ``messages/delta`` on the inbox (with
delta tokens), a mail's MIME (``$value``), ``PATCH`` of ``isRead`` and ``flag``, and
``sendMail`` with a base64 MIME body. It checks the bearer token on every Graph call.
"""

from __future__ import annotations

import base64
import email
import email.policy
import secrets
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiohttp import web

TENANT = "tenant-1"
CLIENT_ID = "mail-app"
CLIENT_SECRET = "mail-app-secret"


@dataclass
class Stored:
    id: str
    raw: bytes
    is_read: bool = False
    flagged: bool = False
    changed: int = 0


@dataclass
class FakeGraphMail:
    mailbox: str
    messages: dict[str, Stored] = field(default_factory=dict)
    sent: list[EmailMessage] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    counter: int = 0
    refused: int = 0

    def deliver(self, raw: bytes) -> str:
        self.counter += 1
        message_id = f"AAMk{secrets.token_hex(6)}"
        self.messages[message_id] = Stored(message_id, raw, changed=self.counter)
        return message_id

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", self.token)
        base = "/v1.0/users/{mailbox}"
        app.router.add_get(base + "/mailFolders/inbox/messages/delta", self.delta)
        app.router.add_get(base + "/messages/{id}/$value", self.value)
        app.router.add_patch(base + "/messages/{id}", self.patch)
        app.router.add_post(base + "/sendMail", self.send_mail)
        return app

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_hex(8)
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 3600})

    def _check(self, request: web.Request) -> None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            self.refused += 1
            raise web.HTTPUnauthorized(text='{"error": {"code": "InvalidAuthenticationToken"}}')
        if request.match_info["mailbox"] != self.mailbox:
            raise web.HTTPNotFound(text='{"error": {"code": "ErrorInvalidUser"}}')

    async def delta(self, request: web.Request) -> web.Response:
        self._check(request)
        since = int(request.query.get("$deltatoken", "0"))
        changed = [m for m in self.messages.values() if m.changed > since]
        link = f"{request.url.with_query({})}?$deltatoken={self.counter}"
        return web.json_response(
            {
                "value": [
                    {
                        "id": m.id,
                        "isRead": m.is_read,
                        "flag": {"flagStatus": "flagged" if m.flagged else "notFlagged"},
                    }
                    for m in changed
                ],
                "@odata.deltaLink": link,
            }
        )

    async def value(self, request: web.Request) -> web.Response:
        self._check(request)
        stored = self.messages.get(request.match_info["id"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.raw, content_type="message/rfc822")

    async def patch(self, request: web.Request) -> web.Response:
        self._check(request)
        stored = self.messages.get(request.match_info["id"])
        if stored is None:
            raise web.HTTPNotFound()
        body = await request.json()
        if "isRead" in body:
            stored.is_read = bool(body["isRead"])
        if isinstance(body.get("flag"), dict):
            stored.flagged = body["flag"].get("flagStatus") == "flagged"
        self.counter += 1
        stored.changed = self.counter
        return web.json_response(
            {"id": stored.id, "isRead": stored.is_read, "flagged": stored.flagged}
        )

    async def send_mail(self, request: web.Request) -> web.Response:
        self._check(request)
        if request.content_type != "text/plain":
            raise web.HTTPBadRequest(text="MIME must be sent as base64 text/plain")
        raw = base64.b64decode(await request.read())
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sent.append(message)
        return web.Response(status=202)
