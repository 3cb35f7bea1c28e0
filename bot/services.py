"""The application's services: what the engine, flows, channels and pages are given.

Built once by the factory (``bot.app.open_services``) and passed down; nothing below
creates its own. Tests build the same object with their own parts (``open_services``'s
``knowledge`` and ``detector``) instead of patching.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot import facts
from bot.access.service import Access
from bot.conversation.notify import Notifier
from bot.desk.service import Desk
from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage import Database
from intents import IntentDetector
from knowledge import KnowledgeBase, Progress, ReloadReport, SearchResult

log = logging.getLogger(__name__)


class KnowledgeService:
    """Holds the live knowledge base and reloads it when its files change.

    A changed article is served as soon as it is parsed and indexed by its words; in
    hybrid mode its vectors are computed afterwards by one background task (in a worker
    thread, so neither the event loop nor searches wait for the model) and swapped in
    when ready.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.last_reload: ReloadReport | None = None
        self._lock = asyncio.Lock()
        self._embedder: asyncio.Task[None] | None = None
        self._embed_again = False

    @classmethod
    async def load(cls, settings: Settings, progress: Progress | None = None) -> KnowledgeService:
        """The settings' knowledge base; ``progress`` follows a first start's encoding."""
        kb = await asyncio.to_thread(
            KnowledgeBase.load,
            settings.kb_path,
            councils=tuple(c.key for c in settings.councils),
            placeholders=facts.NAMES,
            cache_dir=settings.cache_dir,
            semantic=settings.semantic,
            progress=progress,
        )
        return cls(kb)

    async def search(self, text: str, council: str | None) -> SearchResult:
        """:meth:`KnowledgeBase.search` in a worker thread.

        A hybrid search encodes the question and re-scores candidates (about 8 ms of
        CPU); in a thread it doesn't hold up the event loop, which also acknowledges
        Slack's events and serves the web chat. The knowledge base is thread-safe.
        """
        return await asyncio.to_thread(self.kb.search, text, council=council)

    @property
    def root(self) -> Path:
        root: Path = self.kb.root
        return root

    async def refresh(self, paths: Iterable[str] | None = None) -> ReloadReport:
        """Reload what changed: live when this returns; the vectors follow (:meth:`settled`)."""
        async with self._lock:
            report = await asyncio.to_thread(self.kb.refresh, paths, embed=False)
        if report.added or report.changed:
            self._embed_soon()
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

    def _embed_soon(self) -> None:
        """Have the background task compute the vectors of what the last refresh changed."""
        self._embed_again = True
        if self._embedder is None or self._embedder.done():
            self._embedder = asyncio.create_task(self._embed())

    async def _embed(self) -> None:
        # one task at a time; a refresh while it encodes sets _embed_again, so the
        # loop runs once more and the newest versions always get their vectors
        while self._embed_again:
            self._embed_again = False
            started = time.perf_counter()
            try:
                done = await asyncio.to_thread(self.kb.embed_pending)
            except Exception:
                log.exception(
                    "knowledge vectors failed; the changed articles are searched by their "
                    "words until the next change"
                )
                return
            if done:
                log.info(
                    "knowledge vectors in place for %d articles in %.3fs",
                    len(done),
                    time.perf_counter() - started,
                )

    async def settled(self) -> None:
        """Wait until the vectors of every reloaded article are in place (or have failed)."""
        while self._embedder is not None and not self._embedder.done():
            await asyncio.wait({self._embedder})

    async def _stop_embedding(self) -> None:
        task, self._embedder = self._embedder, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def watch(self, stop: asyncio.Event, interval: float = 0.25) -> None:
        """Reload changed articles until ``stop`` is set.

        Uses filesystem notifications (watchfiles) when installed, else polls;
        either way ``KnowledgeBase.refresh`` decides what really changed.
        """
        try:
            await self._watch(stop, interval)
        finally:
            await self._stop_embedding()

    async def _catch_up(self, stop: asyncio.Event, after: float = 1.0) -> None:
        """One full rescan once the watcher has surely started.

        Notifications only cover what changes after the watcher begins; an article
        saved while the bot was loading (a first start encodes for a minute) or while
        the watcher was starting would otherwise stay stale until its next edit.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=after)
        if stop.is_set():
            return
        try:
            await self.refresh()
        except Exception:  # the watcher goes on; the next change is picked up as usual
            log.exception("knowledge base rescan after start-up failed")

    async def _watch(self, stop: asyncio.Event, interval: float) -> None:
        try:
            from watchfiles import awatch

            catch_up = asyncio.create_task(self._catch_up(stop))
            try:
                async for changes in awatch(self.root, stop_event=stop, debounce=100, step=25):
                    await self.refresh([path for _, path in changes])
            finally:
                catch_up.cancel()
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
    #: resets: the configured directory and notification sender
    access: Access
    desk: Desk = field(default_factory=Desk)
    notifier: Notifier = field(default_factory=Notifier)
    #: what ``/metrics`` shows: this bot's own registry
    metrics: Metrics = field(default_factory=Metrics)
