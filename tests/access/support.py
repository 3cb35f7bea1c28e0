"""A bot for reset conversations: the real services on the demo directory, codes read
from the file notifier, a clock the test moves, and one terminal per person."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.app import build_outbox, open_services
from bot.channels.terminal import TerminalChat
from bot.conversation.engine import ConversationEngine
from bot.flows import default_registry
from bot.services import KnowledgeService, Services
from bot.settings import Settings
from integrations.identity.demo import demo_directory
from intents import IntentDetector
from knowledge import KnowledgeBase

SAM = "sam.taylor@dacorum.gov.uk"  # a mobile
PRIYA = "priya.shah@dacorum.gov.uk"  # a personal email only
CHRIS = "chris.morgan@dacorum.gov.uk"  # an administrator
JAMIE = "jamie.patel@aylesburyvaledc.gov.uk"  # locked out
ROBIN = "robin.hughes@aylesburyvaledc.gov.uk"  # no alternate contact
ALEX = "alex.jones@aylesburyvaledc.gov.uk"

#: a Tuesday morning in working hours (approvals expire in working time)
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

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
class ResetBot:
    services: Services
    outbox: Path
    now: datetime = START
    terminals: dict[str, tuple[TerminalChat, io.StringIO]] = dataclasses.field(default_factory=dict)

    @property
    def engine(self) -> ConversationEngine:
        return ConversationEngine(self.services, default_registry(), clock=lambda: self.now)

    async def say(self, email: str, line: str) -> str:
        """What ``email`` types in their terminal → what the bot printed."""
        if email not in self.terminals:
            out = io.StringIO()
            self.terminals[email] = (TerminalChat(self.engine, email, out=out), out)
        chat, out = self.terminals[email]
        chat.engine = self.engine  # the clock may have moved
        start = out.tell()
        await chat.say(line)
        return out.getvalue()[start:]

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

    async def deliver(self) -> int:
        """Run the outbox once, as the server's worker does."""
        return await build_outbox(self.services).run_once()

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextlib.asynccontextmanager
async def reset_bot(settings: Settings, tmp_path: Path, **changes: Any) -> AsyncIterator[ResetBot]:
    outbox = tmp_path / "notify.jsonl"
    settings = dataclasses.replace(settings, directory="demo", notify=f"file:{outbox}", **changes)
    knowledge, detector = models(settings)
    async with open_services(settings, knowledge=knowledge, detector=detector) as services:
        yield ResetBot(services, outbox)
