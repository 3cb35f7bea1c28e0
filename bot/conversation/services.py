"""What flows may use: the knowledge base, the intent detector, settings, the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.desk.notify import Notifier
from bot.desk.service import Desk
from bot.settings import Settings
from bot.storage import Database
from intents import IntentDetector
from knowledge import KnowledgeBase, ReloadReport

log = logging.getLogger(__name__)


class KnowledgeService:
    """Holds the live knowledge base and reloads it when its files change."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.last_reload: ReloadReport | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def load(cls, settings: Settings) -> KnowledgeService:
        kb = await asyncio.to_thread(
            KnowledgeBase.load,
            settings.kb_path,
            councils=tuple(c.key for c in settings.councils),
            cache_dir=settings.cache_dir,
            semantic=settings.semantic,
        )
        return cls(kb)

    @property
    def root(self) -> Path:
        root: Path = self.kb.root
        return root

    async def refresh(self, paths: Iterable[str] | None = None) -> ReloadReport:
        async with self._lock:
            report = await asyncio.to_thread(self.kb.refresh, paths)
        if report.added or report.changed or report.removed or report.failed:
            log.info(
                "knowledge reloaded added=%d changed=%d removed=%d failed=%d in %.3fs",
                len(report.added),
                len(report.changed),
                len(report.removed),
                len(report.failed),
                report.seconds,
            )
            for problem in report.failed:
                log.warning("knowledge problem: %s", problem)
        self.last_reload = report
        return report

    async def watch(self, stop: asyncio.Event, interval: float = 0.25) -> None:
        """Reload changed articles until ``stop`` is set.

        Uses filesystem notifications (watchfiles) when installed, else polls;
        either way ``KnowledgeBase.refresh`` decides what really changed.
        """
        try:
            from watchfiles import awatch

            async for changes in awatch(self.root, stop_event=stop, debounce=100, step=25):
                await self.refresh([path for _, path in changes])
            return
        except ImportError:
            log.info("watchfiles is not installed; polling the knowledge base for changes")
        except (OSError, RuntimeError) as exc:  # e.g. inotify limits: fall back to polling
            log.warning("file notifications unavailable (%s); polling the knowledge base", exc)
        while not stop.is_set():
            started = time.monotonic()
            await self.refresh()
            elapsed = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(interval - elapsed, 0.05))


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    knowledge: KnowledgeService
    detector: IntentDetector
    desk: Desk = field(default_factory=Desk)
    notifier: Notifier = field(default_factory=Notifier)
