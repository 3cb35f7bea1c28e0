"""A fake of Slack's Web API over real HTTP, and helpers to send Slack-signed requests.

``FakeSlack`` serves ``/api/<method>`` (what ``AsyncWebClient(base_url=...)`` calls),
``/hooks/<name>`` (``response_url``s) and ``/socket`` (a Socket Mode WebSocket) on a random
local port, and records every request, so a test reads like what Slack would have seen::

    fake.add_user("U1", "sam.taylor@dacorum.gov.uk", "Sam Taylor")
    await slack.send(message_im("U1", "how do I share my calendar"))
    [post] = await fake.wait_for("chat.postMessage")

Also here: the fixtures the Slack tests share (imported by the test modules).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Secret, Settings

SIGNING_SECRET = "fake-signing-secret-0123456789"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
TEAM = "T0JOINTICT"
BOT_USER = "UBOTITDESK"
SAM_ID, ALEX_ID = "USAMTAYLOR", "UALEXJONES"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    path: str = ""
    #: what the fake answered
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

    @property
    def block_text(self) -> str:
        """All the text of the message's blocks, for assertions."""
        return json.dumps(self.blocks, ensure_ascii=False)


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    #: user group id → member user ids (``usergroups.users.list``)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    #: seconds each call of a method takes before it is answered (a slow Slack)
    delays: dict[str, float] = field(default_factory=dict)
    #: calls received and not answered yet (being delayed)
    in_progress: list[Call] = field(default_factory=list)
    #: method → (seconds, which calls): Slack has done it, but the caller hears so late
    late: dict[str, tuple[float, Callable[[Call], bool]]] = field(default_factory=dict)
    _limits: dict[str, list[int]] = field(default_factory=dict)
    _failures: dict[str, list[str]] = field(default_factory=dict)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    url: str = ""

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    # -- scripting ------------------------------------------------------------------------

    def add_user(self, user_id: str, email: str | None, name: str, **extra: Any) -> None:
        profile: dict[str, Any] = {"real_name": name, "display_name": name.split(" ")[0]}
        if email is not None:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "deleted": False,
            "is_bot": False,
            "profile": profile,
            **extra,
        }

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` get 429 with ``Retry-After``."""
        self._limits[method] = [retry_after] * times

    def answer_late(
        self, method: str, seconds: float, where: Callable[[Call], bool] = lambda c: True
    ) -> None:
        """Calls of ``method`` (matching ``where``) take effect at once — they are seen, a
        posted message can be replied to — but their answer reaches the caller ``seconds``
        later."""
        self.late[method] = (seconds, where)

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        self._failures[method] = [error] * times

    def calls_to(self, method: str) -> list[Call]:
        """The calls of ``method`` that succeeded (not rate limited, not failed on purpose)."""
        return [
            c
            for c in self.calls
            if c.method == method and c.status == 200 and c.result.get("ok") is not False
        ]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        within: float = 15.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` (matching ``where``) arrived."""
        deadline = time.monotonic() + within
        while True:
            found = [c for c in self.calls_to(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(c.method, c.status) for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s); the fake saw {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))

    async def settle(self, seconds: float = 0.5) -> None:
        """Wait until nothing arrived for ``seconds`` (to check nothing more is sent)."""
        while True:
            count = len(self.calls)
            await asyncio.sleep(seconds)
            if len(self.calls) == count:
                return

    def history(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """Top-level messages posted in ``channel``, newest first, as Slack lists them; with
        ``thread_ts``, the replies in that thread instead."""
        messages = []
        for call in self.calls_to("chat.postMessage"):
            if call.params.get("channel") != channel:
                continue
            if (call.params.get("thread_ts") or None) != thread_ts:
                continue
            metadata = call.params.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            message = {
                "type": "message",
                "ts": call.result.get("ts"),
                "text": call.params.get("text"),
            }
            if metadata:
                message["metadata"] = metadata
            messages.append(message)
        return messages[::-1]

    # -- Socket Mode ----------------------------------------------------------------------

    async def wait_for_socket(self, within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while not self._sockets:
            if time.monotonic() > deadline:
                raise AssertionError("the bot never opened a Socket Mode connection")
            await asyncio.sleep(0.05)

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        await self.wait_for_socket()
        await self._sockets[-1].send_json(envelope)

    # -- the server -----------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Serve on ``port`` (a random free one by default; a fixed one to come back on)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/hooks/{name}", self._hook)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            raw = await request.text()
            if request.content_type == "application/json":
                params.update(json.loads(raw or "{}"))
            else:
                params.update(dict(parse_qsl(raw)))
        call = Call(method, params, dict(request.headers), time.monotonic())
        token = request.headers.get("Authorization", "")
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != f"Bearer {expected}":
            self._record(call)
            return web.json_response({"ok": False, "error": "invalid_auth"})
        limits = self._limits.get(method)
        if limits:
            retry_after = limits.pop(0)
            call.status = 429
            self._record(call)
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        delay = self.delays.get(method)
        if delay:
            self.in_progress.append(call)
            self._changed.set()
            try:
                await asyncio.sleep(delay)
            finally:
                self.in_progress.remove(call)
        failures = self._failures.get(method)
        call.result = (
            {"ok": False, "error": failures.pop(0)} if failures else self._answer(method, params)
        )
        self._record(call)
        late = self.late.get(method)
        if late is not None and late[1](call):
            await asyncio.sleep(late[0])
        return web.json_response(call.result)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://joint-ict.slack.com/",
                "team": "Joint ICT",
                "user": "itdesk",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "BITDESK",
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", ""))[1:]}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method.startswith("views."):
            return {"ok": True, "view": {"id": "V" + ts.replace(".", "")}}
        if method == "usergroups.users.list":
            members = self.usergroups.get(str(params.get("usergroup")))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": members}
        if method == "conversations.history":
            return {
                "ok": True,
                "messages": self.history(str(params.get("channel"))),
                "has_more": False,
            }
        if method == "conversations.replies":
            return {
                "ok": True,
                "messages": self.history(str(params.get("channel")), str(params.get("ts"))),
                "has_more": False,
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http", "ws", 1) + "/socket"}
        return {"ok": True}

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call("response_url", body, dict(request.headers), time.monotonic())
        call.path = request.path
        self._record(call)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                self._changed.set()
        return ws


# -- Slack's side of a request: bodies and signatures -------------------------------------


def sign(
    body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """The headers Slack sends: ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


_ids = itertools.count(1)


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    n = next(_ids)
    return {
        "token": "deprecated",
        "team_id": TEAM,
        "api_app_id": "AITDESK",
        "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback",
        "event_id": event_id or f"Ev{n:08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def message_im(user: str, text: str, **extra: Any) -> dict[str, Any]:
    """A direct message from ``user`` to the bot."""
    return event_callback(
        {
            "type": "message",
            "channel": "D" + user[1:],
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "team": TEAM,
            **extra,
        }
    )


def app_mention(user: str, text: str, channel: str = "CITHELP", **extra: Any) -> dict[str, Any]:
    return event_callback(
        {
            "type": "app_mention",
            "channel": channel,
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": f"{time.time():.6f}",
            "team": TEAM,
            **extra,
        }
    )


def home_opened(user: str) -> dict[str, Any]:
    return event_callback({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})


def command(user: str, text: str, response_url: str, channel: str = "CITHELP") -> str:
    """The form body of ``/itdesk <text>``."""
    return urlencode(
        {
            "token": "deprecated",
            "team_id": TEAM,
            "channel_id": channel,
            "channel_name": "it-help",
            "user_id": user,
            "user_name": "someone",
            "command": "/itdesk",
            "text": text,
            "api_app_id": "AITDESK",
            "response_url": response_url,
            "trigger_id": f"{next(_ids)}.{int(time.time())}.abcdef",
        }
    )


def interaction(payload: dict[str, Any]) -> str:
    """The form body of an interaction (block_actions, shortcuts, view submissions)."""
    base = {
        "team": {"id": TEAM, "domain": "joint-ict"},
        "api_app_id": "AITDESK",
        "token": "deprecated",
        "trigger_id": f"{next(_ids)}.{int(time.time())}.fedcba",
    }
    return urlencode({"payload": json.dumps({**base, **payload})})


def press(user: str, post: Call, label: str, *, response_url: str = "") -> str:
    """``user`` presses the button labelled ``label`` in the message the bot sent in ``post``."""
    for block in post.blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                pressed = {**element, "block_id": block.get("block_id", ""), "action_ts": "1"}
                break
        else:
            continue
        break
    else:
        raise AssertionError(f"no button {label!r} in {post.block_text}")
    channel = str(post.params.get("channel", ""))
    ts = "1700000000.000100"
    if post.method == "response_url":
        container = {"type": "message", "is_ephemeral": True, "channel_id": "CITHELP"}
        return interaction(
            {
                "type": "block_actions",
                "user": {"id": user},
                "container": container,
                "channel": {"id": "CITHELP"},
                "response_url": response_url,
                "actions": [pressed],
            }
        )
    message = {
        "type": "message",
        "user": BOT_USER,
        "ts": ts,
        "text": post.params.get("text", ""),
        "blocks": post.blocks,
    }
    if post.params.get("thread_ts"):
        message["thread_ts"] = post.params["thread_ts"]
    return interaction(
        {
            "type": "block_actions",
            "user": {"id": user},
            "container": {"type": "message", "message_ts": ts, "channel_id": channel},
            "channel": {"id": channel},
            "message": message,
            "response_url": response_url,
            "actions": [pressed],
        }
    )


# -- fixtures the Slack tests share --------------------------------------------------------


@dataclass
class SlackDriver:
    """Sends signed requests to the running app, as Slack would."""

    client: TestClient[Any, Any]
    fake: FakeSlack

    async def send(
        self, body: dict[str, Any] | str, *, headers: dict[str, str] | None = None
    ) -> Any:
        text = json.dumps(body) if isinstance(body, dict) else body
        content_type = (
            "application/json" if isinstance(body, dict) else "application/x-www-form-urlencoded"
        )
        all_headers = {"Content-Type": content_type, **sign(text), **(headers or {})}
        return await self.client.post("/slack/events", data=text.encode(), headers=all_headers)


class Models:
    """The intent detector and the knowledge base, loaded once per test session.

    Both are pure and read-only here (no test edits articles), and loading them takes
    seconds (the embeddings of every article): each app in these tests is handed them
    through ``open_services`` and ``create_app(services=...)``, never by patching.
    """

    @contextlib.asynccontextmanager
    async def app(self, settings: Settings, **options: Any) -> AsyncIterator[web.Application]:
        """``itbot serve``'s application for ``settings``, with the shared models."""
        from bot.app import create_app, open_services
        from bot.services import KnowledgeService
        from intents import IntentDetector
        from knowledge import KnowledgeBase

        councils = tuple(c.key for c in settings.councils)
        kb_key = ("kb", settings.kb_path, councils, settings.semantic)
        if kb_key not in _LOADED:
            _LOADED[kb_key] = KnowledgeBase.load(
                settings.kb_path,
                councils=councils,
                cache_dir=settings.cache_dir,
                semantic=settings.semantic,
            )
        detector_key = ("detector", settings.ticket_prefix)
        if detector_key not in _LOADED:
            _LOADED[detector_key] = IntentDetector.load(None, ticket_prefix=settings.ticket_prefix)
        knowledge = KnowledgeService(_LOADED[kb_key])
        async with open_services(
            settings, knowledge=knowledge, detector=_LOADED[detector_key]
        ) as services:
            yield create_app(settings, services=services, **options)


@pytest.fixture
def cached_models() -> Models:
    return Models()


_LOADED: dict[Any, Any] = {}


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.add_user(SAM_ID, "sam.taylor@dacorum.gov.uk", "Sam Taylor")
    fake.add_user(ALEX_ID, "alex.jones@aylesburyvaledc.gov.uk", "Alex Jones")
    yield fake
    await fake.close()


def slack_settings(settings: Settings, fake: FakeSlack, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": Secret(BOT_TOKEN),
        "slack_signing_secret": Secret(SIGNING_SECRET),
        "slack_api_url": fake.api_url,
        **changes,
    }
    return dataclasses.replace(settings, **values)


@pytest.fixture
async def slack(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> AsyncIterator[SlackDriver]:
    """``itbot serve``'s application with Slack on, over HTTP, talking to the fake."""
    config = slack_settings(settings, fake_slack)
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        yield SlackDriver(client, fake_slack)


def is_approval_request(call: Call, triage: str) -> bool:
    """An approval request the bot posted in the ``triage`` channel."""
    return call.params.get("channel") == triage and "Approval" in call.params.get("text", "")


def press_approval(user: str, post: Call, verb: str, triage: str) -> str:
    """``user`` presses Approve or Deny (``verb``) on the request's message ``post``."""
    for block in post.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == f"itbot:triage:{verb}":
                action = {
                    **element,
                    "block_id": block["block_id"],
                    "action_ts": f"{time.time():.6f}",
                }
                break
        else:
            continue
        break
    else:
        raise AssertionError(f"no {verb} button in {post.block_text}")
    ts = str(post.result["ts"])
    return interaction(
        {
            "type": "block_actions",
            "user": {"id": user},
            "container": {"type": "message", "message_ts": ts, "channel_id": triage},
            "channel": {"id": triage},
            "message": {"type": "message", "user": BOT_USER, "ts": ts, "blocks": post.blocks},
            "actions": [action],
        }
    )
