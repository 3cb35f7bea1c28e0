"""A local fake of what the Teams channel talks to, over real HTTP on a random port:
Bot Framework's OpenID metadata and signing keys, the Entra token endpoint and the Bot
Connector (activities and the member lookup).

Also here: a signer for the Bot Connector's tokens (the fake's private key, or another
one for a forged signature), activities as Teams sends them, and the fixtures the Teams
tests share.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.settings import Secret, Settings
from tests.slack.fake_slack import Models, cached_models

__all__ = ["cached_models"]

APP_ID = "00000000-0000-4000-8000-00000000a11d"
APP_PASSWORD = "client-secret-not-for-logs"
TENANT = "11111111-2222-4333-8444-555555555555"
ISSUER = "https://api.botframework.com"
KID = "fake-key-1"

SAM = "29:sam-teams-id"  # Dacorum
ALEX = "29:alex-teams-id"  # Aylesbury Vale
PAT = "29:pat-teams-id"  # not a council address

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    #: what the fake answered (a new thread's ids)
    result: Any = None

    @property
    def card(self) -> dict[str, Any]:
        return dict(self.body["attachments"][0]["content"])

    @property
    def card_text(self) -> str:
        return json.dumps(self.card)

    def button(self, title: str) -> dict[str, Any]:
        for block in self.card["body"]:
            for action in block.get("actions") or []:
                if action.get("title") == title:
                    return dict(action)
        raise AssertionError(f"no {title!r} button in {self.card_text}")


@dataclass
class FakeTeams:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    #: answer this many Bot Connector posts and updates with 503 before taking them
    fail_posts: int = 0
    #: how many were answered 503
    failed: int = 0
    #: the signing keys published at /keys, by kid
    published: dict[str, Any] = field(default_factory=lambda: {KID: _KEY})
    key_fetches: int = 0
    server: TestServer | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/token", self._token)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post(
            "/v3/conversations/{conversation}/activities/{reply_to}", self._activity
        )
        app.router.add_get("/v3/conversations/{conversation}/members/{user}", self._member)
        app.router.add_post("/v3/conversations", self._conversation)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        self.server = TestServer(app)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    @property
    def service_url(self) -> str:
        return self.base + "/"

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.port}"

    def add_user(self, user_id: str, email: str, name: str) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "email": email,
            "userPrincipalName": email,
            "aadObjectId": f"aad-{user_id[3:]}",
            "tenantId": TENANT,
        }

    def posts(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and "/activities" in c.path]

    def threads(self) -> list[Call]:
        """New threads started in a channel (``POST v3/conversations``)."""
        return [c for c in self.calls if c.method == "POST" and c.path == "/v3/conversations"]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT"]

    async def wait_until(self, check: Any, within: float = 10.0) -> None:
        """Until ``check()`` holds (the bot's outbox works in the background)."""
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(check)

    # -- handlers ------------------------------------------------------------------------

    async def _openid(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.base}/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        self.key_fetches += 1
        keys = []
        for kid, key in self.published.items():
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append(public | {"kid": kid, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": keys})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != APP_ID
            or form.get("client_secret") != APP_PASSWORD
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"bot-token-{len(self.tokens_issued) + 1}"
        self.tokens_issued.append(token)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": token}
        )

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") in {
            f"Bearer {t}" for t in self.tokens_issued
        }

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        busy = self._busy()
        if busy is not None:
            return busy
        await self._record(request, body)
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        return web.json_response({"id": f"activity-{next(self._ids)}"}, status=201)

    def _busy(self) -> web.Response | None:
        if self.fail_posts > 0:
            self.fail_posts -= 1
            self.failed += 1
            return web.json_response({"error": "busy"}, status=503)
        return None

    async def _conversation(self, request: web.Request) -> web.Response:
        """A new thread in a channel: ``{isGroup, channelData: {channel}, activity}``."""
        body = await request.json()
        busy = self._busy()
        if busy is not None:
            return busy
        if not self._authorised(request):
            await self._record(request, body)
            return web.json_response({"error": "Unauthorized"}, status=401)
        channel = body["channelData"]["channel"]["id"]
        activity_id = f"{1733475600000 + next(self._ids)}"
        result = {"id": f"{channel};messageid={activity_id}", "activityId": activity_id}
        await self._record(request, body, result)
        return web.json_response(result, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        busy = self._busy()
        if busy is not None:
            return busy
        await self._record(request, body)
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        return web.json_response({"id": request.match_info["activity"]})

    async def _member(self, request: web.Request) -> web.Response:
        await self._record(request, None)
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        user = self.users.get(request.match_info["user"])
        if user is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(user)

    async def _record(self, request: web.Request, body: Any, result: Any = None) -> None:
        async with self._changed:
            call = Call(request.method, request.path, dict(request.headers), body, result)
            self.calls.append(call)
            self._changed.notify_all()


def sign(
    service_url: str,
    *,
    audience: str = APP_ID,
    expires_in: float = 3600,
    not_before: float = 0,
    key: Any = _KEY,
    kid: str = KID,
    issuer: str = ISSUER,
) -> str:
    """A Bot Connector token for an activity from ``service_url``."""
    now = time.time()
    claims = {
        "iss": issuer,
        "aud": audience,
        "serviceurl": service_url,
        "nbf": int(now + not_before),
        "iat": int(now + not_before),
        "exp": int(now + expires_in),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def forged_key() -> Any:
    return _OTHER_KEY


_activity_ids = itertools.count(1)


def message(
    fake: FakeTeams,
    user: str,
    text: str = "",
    *,
    value: dict[str, Any] | None = None,
    personal: bool = True,
    conversation: str = "",
) -> dict[str, Any]:
    """A message activity as the Bot Connector sends it (``value``: a button press)."""
    activity: dict[str, Any] = {
        "type": "message",
        "id": f"act-{next(_activity_ids)}",
        "timestamp": "2026-12-06T09:00:00.000Z",
        "serviceUrl": fake.service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": "", "aadObjectId": f"aad-{user[3:]}"},
        "conversation": {
            "id": conversation or f"a:personal-{user[3:]}",
            "conversationType": "personal" if personal else "channel",
            "tenantId": TENANT,
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "itbot"},
        "text": text,
        "channelData": {"tenant": {"id": TENANT}},
    }
    if value is not None:
        activity["value"] = value
    return activity


def invoke(fake: FakeTeams, user: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """An ``invoke`` activity (the code dialog's ``task/fetch`` and ``task/submit``)."""
    activity = message(fake, user)
    activity.update(type="invoke", name=name, value={"type": name, "data": data})
    del activity["text"]
    return activity


def teams_settings(settings: Settings, fake: FakeTeams, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "teams_app_id": APP_ID,
        "teams_app_password": Secret(APP_PASSWORD),
        "teams_tenant_id": TENANT,
        "teams_openid_url": f"{fake.base}/openid",
        "teams_token_url": f"{fake.base}/token",
        "teams_service_hosts": (fake.host,),
        **changes,
    }
    return dataclasses.replace(settings, **values)


class TeamsDriver:
    """The bot's app over HTTP and the fake it talks to."""

    def __init__(self, client: TestClient[Any, Any], fake: FakeTeams, app: web.Application):
        self.client = client
        self.fake = fake
        self.app = app

    async def send(self, activity: dict[str, Any], token: str | None = None) -> Any:
        bearer = token if token is not None else sign(activity["serviceUrl"])
        return await self.client.post(
            "/api/messages",
            data=json.dumps(activity).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"},
        )


@pytest.fixture
async def fake_teams() -> AsyncIterator[FakeTeams]:
    fake = FakeTeams()
    await fake.start()
    fake.add_user(SAM, "sam.taylor@dacorum.gov.uk", "Sam Taylor")
    fake.add_user(ALEX, "alex.jones@aylesburyvaledc.gov.uk", "Alex Jones")
    fake.add_user(PAT, "pat@example.com", "Pat Outsider")
    yield fake
    await fake.close()


@pytest.fixture
async def teams(
    settings: Settings, fake_teams: FakeTeams, cached_models: Models
) -> AsyncIterator[TeamsDriver]:
    """``itbot serve``'s application with Teams on, over HTTP, talking to the fake."""
    config = teams_settings(settings, fake_teams)
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        yield TeamsDriver(client, fake_teams, app)
