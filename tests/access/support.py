"""A bot for reset conversations: the real services on the demo directory, codes read
from the file notifier, a clock the test moves, and one terminal or one browser session per
person.

``channel="terminal"`` types into ``itbot chat --as``'s chat; ``channel="web"`` talks to the
real web application over HTTP, the person proven by the councils' single sign-on header.
Both print what the person sees the same way (numbered buttons, "== title" for a guide), so
one conversation test runs on each channel: typing a button's number in the web chat
presses that button, as a click would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp.test_utils import BaseTestServer, TestServer

from bot.app import create_app, open_services
from bot.channels.terminal import TerminalChat
from bot.conversation.engine import ConversationEngine
from bot.conversation.text import choice_number
from bot.flows import default_registry
from bot.services import KnowledgeService, Services
from bot.settings import Settings
from integrations.identity.demo import demo_directory
from intents import IntentDetector
from knowledge import KnowledgeBase
from tests.conftest import deliver_outbox

SAM = "sam.taylor@dacorum.gov.uk"  # a mobile
PRIYA = "priya.shah@dacorum.gov.uk"  # a personal email only
CHRIS = "chris.morgan@dacorum.gov.uk"  # an administrator
JAMIE = "jamie.patel@aylesburyvaledc.gov.uk"  # locked out
ROBIN = "robin.hughes@aylesburyvaledc.gov.uk"  # no alternate contact
ALEX = "alex.jones@aylesburyvaledc.gov.uk"

#: a Tuesday morning in working hours (approvals expire in working time)
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
#: the header the councils' single sign-on proxy sets (the web channel's proven identity)
SSO_HEADER = "X-Forwarded-Email"

_MODELS: dict[str, Any] = {}


def models(settings: Settings) -> tuple[KnowledgeService, IntentDetector]:
    """The knowledge base and detector, loaded once per test session (read-only here)."""
    if "kb" not in _MODELS:
        _MODELS["kb"] = KnowledgeBase.load(
            None,
            councils=tuple(c.key for c in settings.councils),
            cache_dir=settings.cache_dir,
            semantic=settings.semantic,
        )
        _MODELS["detector"] = IntentDetector.load(None, ticket_prefix=settings.ticket_prefix)
    return KnowledgeService(_MODELS["kb"]), _MODELS["detector"]


@dataclasses.dataclass
class Browser:
    """One person's web chat: their own cookies, and the buttons on screen."""

    http: aiohttp.ClientSession
    buttons: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def shown(replies: list[dict[str, Any]]) -> str:
    """The web chat's replies as the terminal prints them: text, guides, numbered buttons."""
    lines: list[str] = []
    number = 0
    for reply in replies:
        lines.append(str(reply["text"]))
        lines.extend(f"== {card['title']}" for card in reply["cards"])
        for button in reply["buttons"]:
            number += 1
            lines.append(f"  [{number}] {button['label']}")
    return "\n".join(lines) + "\n"


@dataclasses.dataclass
class ResetBot:
    services: Services
    outbox: Path
    channel: str = "terminal"
    now: datetime = START
    terminals: dict[str, tuple[TerminalChat, io.StringIO]] = dataclasses.field(default_factory=dict)
    browsers: dict[str, Browser] = dataclasses.field(default_factory=dict)
    server: BaseTestServer | None = None

    @property
    def engine(self) -> ConversationEngine:
        return ConversationEngine(self.services, default_registry(), clock=lambda: self.now)

    async def say(self, email: str, line: str) -> str:
        """What ``email`` types in their terminal or web chat → what the bot showed."""
        if self.channel == "web":
            return await self._say_on_the_web(email, line)
        if email not in self.terminals:
            out = io.StringIO()
            self.terminals[email] = (TerminalChat(self.engine, email, out=out), out)
        chat, out = self.terminals[email]
        chat.engine = self.engine  # the clock may have moved
        start = out.tell()
        await chat.say(line)
        return out.getvalue()[start:]

    async def _say_on_the_web(self, email: str, line: str) -> str:
        assert self.server is not None
        if email not in self.browsers:
            http = aiohttp.ClientSession(
                base_url=str(self.server.make_url("/")), headers={SSO_HEADER: email}
            )
            self.browsers[email] = Browser(http)
        browser = self.browsers[email]
        body: dict[str, Any] = {"text": line}
        index = choice_number(line, len(browser.buttons))
        if index is not None:  # the person clicks the button they read the number of
            body = {"press": {"action": browser.buttons[index]["action"]}}
        async with browser.http.post("/api/chat", json=body) as response:
            assert response.status == 200, await response.text()
            replies = (await response.json())["replies"]
        browser.buttons = [b for r in replies for b in r["buttons"]]
        return shown(replies)

    def sent(self) -> list[dict[str, Any]]:
        """Every message the file notifier wrote, oldest first."""
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text().splitlines()]

    def last_code(self, to: str) -> str:
        codes = [m for m in self.sent() if m["to"] == to and m["purpose"] == "code"]
        assert codes, f"no code was sent to {to}"
        return str(codes[-1]["text"][:6])

    async def person(self, email: str) -> dict[str, Any]:
        """The demo directory's row for ``email``."""
        async with self.services.db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(demo_directory).where(demo_directory.c.email == email))
            ).one()
        return dict(row._mapping)

    async def deliver(self) -> None:
        """Deliver what the outbox holds, as the server's worker does (waiting for rows the
        web app's own worker, woken by the commit, is delivering)."""
        await deliver_outbox(self.services)

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextlib.asynccontextmanager
async def reset_bot(
    settings: Settings, tmp_path: Path, *, channel: str = "terminal", **changes: Any
) -> AsyncIterator[ResetBot]:
    outbox = tmp_path / "notify.jsonl"
    if channel == "web":
        changes.setdefault("trusted_email_header", SSO_HEADER)
    settings = dataclasses.replace(settings, directory="demo", notify=f"file:{outbox}", **changes)
    knowledge, detector = models(settings)
    async with open_services(settings, knowledge=knowledge, detector=detector) as services:
        bot = ResetBot(services, outbox, channel=channel)
        if channel != "web":
            yield bot
            return
        app = create_app(settings, services=services, watch_knowledge=False, clock=lambda: bot.now)
        async with TestServer(app) as server:
            bot.server = server
            try:
                yield bot
            finally:
                for browser in bot.browsers.values():
                    await browser.http.close()
