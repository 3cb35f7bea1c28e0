"""What the fake Graph and Google servers share: switchable faults, a bearer-token check,
and serving an aiohttp app on a random local port."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.conftest import free_port


@dataclass
class Faults:
    """Answer the next ``count`` API requests (never the token endpoint) with ``status``."""

    count: int = 0
    status: int = 500
    retry_after: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    #: seconds to hold every API answer back (longer than the client's timeout: a timeout)
    delay: float = 0.0

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.count, self.status, self.retry_after = count, status, retry_after
        self.body = body or {"error": {"code": "injected", "message": f"injected {status}"}}

    async def answer(self) -> web.Response | None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.count <= 0:
            return None
        self.count -= 1
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        return web.json_response(self.body, status=self.status, headers=headers)


class Tokens:
    """Access tokens the fake issued and still honours."""

    def __init__(self) -> None:
        self.valid: set[str] = set()
        self.issued = 0

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        self.valid.add(token)
        self.issued += 1
        return token

    def expire_all(self) -> None:
        """Every token now gets 401, as an expired or revoked one does."""
        self.valid.clear()

    def holds(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and token in self.valid


class Served:
    """An app on 127.0.0.1 at a random port."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._runner: web.AppRunner | None = None

    async def up(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._runner = runner

    async def down(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


class Sleeps:
    """Stands in for asyncio.sleep in the clients under test: records each wait (so a test
    can see ``Retry-After`` was honoured without timing anything) and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
