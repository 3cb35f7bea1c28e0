"""Test support for the service desk connectors: fault injection, servers that go down and
come back on the same port, a fault-injecting proxy for the real RT, and the harness each
desk's tests drive (the connector plus ground truth read from the desk behind its back)."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

from integrations.servicedesk import ServiceDesk, TicketDraft, TicketStatus
from tests.conftest import free_port


@dataclass
class Faults:
    """Switchable faults, applied by :meth:`middleware` to every request a server gets."""

    fail: int = 0
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    slow_methods: tuple[str, ...] = ()
    after_handling: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: the body of every request, as sent (read once here; aiohttp keeps it for the handler)
    bodies: list[bytes] = field(default_factory=list)
    #: requests being handled right now (a late answer is still "in flight")
    in_flight: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: str | None = None,
        after_handling: bool = False,
    ) -> None:
        """Answer the next ``count`` requests with ``status``: before handling them, or
        (``after_handling``) after, as a gateway does when the backend did the work."""
        self.fail, self.status, self.retry_after = count, status, retry_after
        self.after_handling = after_handling

    def slow(
        self, seconds: float, *, methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH")
    ) -> None:
        """Handle requests with these methods, then answer only after ``seconds``."""
        self.delay, self.slow_methods = seconds, methods

    def _failure(self) -> web.Response:
        self.fail -= 1
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        return web.json_response(
            {"message": "injected failure"}, status=self.status, headers=headers
        )

    def clear(self) -> None:
        self.fail, self.delay = 0, 0.0

    async def settled(self) -> None:
        """Wait until no request is being handled: a retry in production comes from the
        outbox after a backoff, by when the late request has landed on the desk."""
        if self.in_flight:
            async with asyncio.timeout(30):
                await self._idle.wait()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        self.bodies.append(await request.read())
        if self.fail > 0 and not self.after_handling:
            return self._failure()
        self.in_flight += 1
        self._idle.clear()
        try:
            response: web.StreamResponse = await handler(request)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()
        if self.fail > 0:
            return self._failure()
        if self.delay and request.method in self.slow_methods:
            # The request was handled (a ticket may now exist); only the answer is late.
            await asyncio.sleep(self.delay)
        return response


class FlakyServer:
    """Serves a fresh ``make_app()`` on one fixed local port; :meth:`down` closes the port
    and every connection (clients get "connection refused"), :meth:`up` serves again."""

    def __init__(self, make_app: Callable[[], web.Application]) -> None:
        self._make_app = make_app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None

    async def up(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self._make_app(), access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._runner = runner

    async def down(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


def basic_auth_ok(request: web.Request, user: str, password: str) -> bool:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return secrets.compare_digest(request.headers.get("Authorization", ""), expected)


def make_proxy(target: str, faults: Faults) -> Callable[[], web.Application]:
    """An app factory for a fault-injecting reverse proxy in front of ``target``."""

    def make_app() -> web.Application:
        app = web.Application(middlewares=[faults.middleware])
        client_key = web.AppKey("client", aiohttp.ClientSession)

        async def client_ctx(app: web.Application) -> AsyncIterator[None]:
            async with aiohttp.ClientSession(auto_decompress=False) as client:
                app[client_key] = client
                yield

        async def forward(request: web.Request) -> web.Response:
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("host", "content-length", "connection")
            }
            async with request.app[client_key].request(
                request.method,
                target + request.path_qs,
                headers=headers,
                data=await request.read(),
                allow_redirects=False,
            ) as upstream:
                body = await upstream.read()
                keep = ("content-type", "retry-after", "location")
                return web.Response(
                    status=upstream.status,
                    body=body,
                    headers={k: v for k, v in upstream.headers.items() if k.lower() in keep},
                )

        app.cleanup_ctx.append(client_ctx)
        app.router.add_route("*", "/{tail:.*}", forward)
        return app

    return make_app


class Harness:
    """One desk under test: its connector, its faults, and ground truth about it."""

    name: str
    faults: Faults
    server: FlakyServer
    webhook_secret: str
    #: what ``fetch`` reports after ``set_status(status)`` when the product can't say it
    status_after: ClassVar[dict[TicketStatus, TicketStatus]] = {}

    def __init__(self) -> None:
        self._connectors: list[ServiceDesk] = []

    def connect(self, *, timeout: float = 5.0, **overrides: Any) -> ServiceDesk:
        """A new connector to this desk (closed by :meth:`close`)."""
        desk = self._connect(timeout=timeout, **overrides)
        self._connectors.append(desk)
        return desk

    def _connect(self, *, timeout: float, **overrides: Any) -> ServiceDesk:
        raise NotImplementedError

    async def close(self) -> None:
        for desk in self._connectors:
            await desk.aclose()
        await self.server.down()

    async def count(self, reference: str) -> int:
        """How many remote tickets carry ``reference``, asked without the connector."""
        raise NotImplementedError

    async def comments(self, remote_id: str) -> list[tuple[str, bool]]:
        """Every comment on the ticket as (text, public), asked without the connector."""
        raise NotImplementedError

    async def agent_reply(self, remote_id: str, body: str, *, public: bool) -> None:
        raise NotImplementedError

    async def agent_set_status(self, remote_id: str, status: TicketStatus) -> None:
        raise NotImplementedError

    def webhooks(self) -> list[tuple[dict[str, str], bytes]]:
        """The webhook deliveries the desk has sent (headers, raw body), oldest first."""
        raise NotImplementedError


def draft(reference: str | None = None, **changes: Any) -> TicketDraft:
    values: dict[str, Any] = {
        "reference": reference or f"JSD-{secrets.randbelow(10**9):09d}",
        "subject": "Outlook keeps asking for my password",
        "description": "Since this morning Outlook on the web asks me to sign in again.",
        "requester_email": "sam.taylor@dacorum.gov.uk",
        "requester_name": "Sam Taylor",
        "council": "Dacorum",
        "category": "email",
        "priority": "P3",
        "transcript": "Sam: my email keeps logging me out\nBot: Let's raise a ticket.",
    }
    values.update(changes)
    return TicketDraft(**values)
