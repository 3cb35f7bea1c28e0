"""Hot reload in hybrid mode: the new text serves at once, its vectors follow.

A reload first parses and indexes the changed articles by their words (they are served
from then on), then computes their vectors, outside the lock, and swaps them in. Until
then an article ranks by its words alone, never by the vectors of its old text; and an
encode of an older version that finishes last is dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bot.services import KnowledgeService
from knowledge import KnowledgeBase


class GatedEncoder:
    """A stand-in for the sentence model (hashed bag of words) that can be held up.

    While :meth:`hold` is in force, encoding articles whose texts contain the held word
    blocks until :meth:`release`, so a test decides which encode finishes last.
    """

    name = "gated"
    dim = 64

    def __init__(self) -> None:
        self.held: str | None = None
        self.entered = threading.Event()
        self._gate = threading.Event()
        self._gate.set()

    def hold(self, word: str) -> None:
        self.held = word
        self.entered.clear()
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, hashlib.sha256(word[:5].encode()).digest()[0] % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.where(norms == 0, 1.0, norms)).astype(np.float32)

    def encode_cached(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Articles' texts (questions go through :meth:`encode`, never held up)."""
        if self.held is not None and any(self.held in t.lower() for t in texts):
            self.entered.set()
            assert self._gate.wait(timeout=10), "the test never released the encoder"
        return self.encode(texts)


def write(path: Path, title: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\nowner: kb@dacorum.gov.uk\n---\n{body}\n", "utf-8")
    stat = path.stat()  # visible even where timestamps are coarse
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


PASSWORD = "sign-in/password"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path / "email/out-of-office.md", "Automatic replies", "Turn on automatic replies.")
    write(
        tmp_path / "sign-in/password.md",
        "Forgotten password",
        "Reset your forgotten password on the reset page.",
    )
    write(tmp_path / "teams/share.md", "Share your screen", "Select Share in a Teams meeting.")
    return tmp_path


def ids(kb: KnowledgeBase, query: str) -> list[str]:
    return [h.article.id for h in kb.search(query, limit=50).hits]


def semantic(kb: KnowledgeBase, query: str) -> dict[str, float]:
    return {h.article.id: h.parts["semantic"] for h in kb.search(query, limit=50).hits}


def assert_same_vectors(kb: KnowledgeBase, root: Path, *queries: str) -> None:
    """``kb`` scores semantically exactly as the same folder loaded from scratch."""
    fresh = KnowledgeBase.load(root, encoder=GatedEncoder())
    for query in queries:
        assert semantic(kb, query) == pytest.approx(semantic(fresh, query), rel=1e-5), query


async def watcher_ready(service: KnowledgeService, root: Path) -> None:
    """Wait until the watcher sees edits (its start-up takes longer on a cold machine)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in itertools.count():
        write(root / "teams/share.md", f"Share your screen {n}", "Select Share in a meeting.")
        for _ in range(10):
            await asyncio.sleep(0.05)
            if service.kb.get("teams/share").title == f"Share your screen {n}":  # type: ignore[union-attr]
                # and its vectors in place, so a test's own edit is encoded on its own
                await asyncio.wait_for(service.settled(), timeout=10)
                return
        assert loop.time() - started < 10, "the watcher never started"


def test_an_edit_serves_its_new_text_at_once_and_its_vectors_follow(root: Path) -> None:
    kb = KnowledgeBase.load(root, encoder=GatedEncoder())
    assert ids(kb, "reset forgotten password")[0] == PASSWORD
    before = semantic(kb, "share my screen in teams")
    write(root / "sign-in/password.md", "Authenticator app", "Set up the authenticator app.")

    report = kb.refresh(embed=False)

    assert report.changed == [PASSWORD]
    assert kb.vectors_pending == [PASSWORD]
    assert "authenticator" in kb.get(PASSWORD).body  # type: ignore[union-attr]
    assert ids(kb, "set up authenticator app")[0] == PASSWORD  # by its new words
    # the vectors of the old text don't speak for the new one
    assert PASSWORD not in ids(kb, "reset forgotten password")
    # and the other articles score as before
    now = semantic(kb, "share my screen in teams")
    assert {k: v for k, v in now.items() if k != PASSWORD} == pytest.approx(
        {k: v for k, v in before.items() if k != PASSWORD}
    )

    assert kb.embed_pending() == [PASSWORD]
    assert kb.vectors_pending == []
    assert ids(kb, "set up authenticator app")[0] == PASSWORD
    assert_same_vectors(kb, root, "set up authenticator app", "reset forgotten password")


def test_additions_and_deletions_are_live_before_any_vectors(root: Path) -> None:
    kb = KnowledgeBase.load(root, encoder=GatedEncoder())
    write(root / "calendar/book-room.md", "Book a meeting room", "Add the room to the invite.")
    (root / "email/out-of-office.md").unlink()

    report = kb.refresh(embed=False)

    assert (report.added, report.removed) == (["calendar/book-room"], ["email/out-of-office"])
    assert kb.vectors_pending == ["calendar/book-room"]
    assert ids(kb, "book a meeting room")[0] == "calendar/book-room"
    assert "email/out-of-office" not in ids(kb, "automatic replies")
    assert kb.embed_pending() == ["calendar/book-room"]
    assert_same_vectors(kb, root, "book a meeting room", "automatic replies")


def test_refresh_waits_for_the_vectors_by_default(root: Path) -> None:
    kb = KnowledgeBase.load(root, encoder=GatedEncoder())
    write(root / "sign-in/password.md", "Authenticator app", "Set up the authenticator app.")
    assert kb.refresh().changed == [PASSWORD]
    assert kb.vectors_pending == []
    assert_same_vectors(kb, root, "set up authenticator app")


def test_an_older_encode_finishing_last_never_overwrites_a_newer_one(root: Path) -> None:
    encoder = GatedEncoder()
    kb = KnowledgeBase.load(root, encoder=encoder)
    path = root / "sign-in/password.md"
    write(path, "Password expiry", "Your password expires every ninety days.")
    kb.refresh(embed=False)
    encoder.hold("ninety")  # the first save's encode stalls ...
    first: list[list[str]] = []
    slow = threading.Thread(target=lambda: first.append(kb.embed_pending()))
    slow.start()
    try:
        assert encoder.entered.wait(timeout=10)
        write(path, "Authenticator app", "Set up the authenticator app.")  # ... a second save
        kb.refresh(embed=False)
        assert ids(kb, "set up authenticator app")[0] == PASSWORD
        assert kb.embed_pending() == [PASSWORD]  # the second save's vectors are in place
    finally:
        encoder.release()  # ... and only now does the first save's encode finish
        slow.join(timeout=10)
    assert first == [[]]  # it put nothing in place
    assert kb.vectors_pending == []
    assert_same_vectors(kb, root, "set up authenticator app", "password expires ninety days")


async def test_the_service_serves_edits_while_their_vectors_are_computed(root: Path) -> None:
    """What the bot does: refresh, then a background task computes the vectors."""
    encoder = GatedEncoder()
    service = KnowledgeService(KnowledgeBase.load(root, encoder=encoder))
    kb = service.kb
    path = root / "sign-in/password.md"
    encoder.hold("ninety")
    try:
        write(path, "Password expiry", "Your password expires every ninety days.")
        await asyncio.wait_for(service.refresh([str(path)]), timeout=5)
        assert await asyncio.to_thread(encoder.entered.wait, 10)  # its encode is stalled
        assert ids(kb, "password expires ninety days")[0] == PASSWORD
        assert kb.vectors_pending == [PASSWORD]
        write(path, "Authenticator app", "Set up the authenticator app.")  # a second save
        await asyncio.wait_for(service.refresh([str(path)]), timeout=5)
        assert ids(kb, "set up authenticator app")[0] == PASSWORD
    finally:
        encoder.release()
    await asyncio.wait_for(service.settled(), timeout=10)
    assert kb.vectors_pending == []
    assert_same_vectors(kb, root, "set up authenticator app", "password expires ninety days")


async def test_the_watcher_makes_an_edit_live_within_a_second(root: Path) -> None:
    encoder = GatedEncoder()
    service = KnowledgeService(KnowledgeBase.load(root, encoder=encoder))
    stop = asyncio.Event()
    watch = asyncio.create_task(service.watch(stop))
    encoder.hold("authenticator")
    try:
        await watcher_ready(service, root)
        write(root / "sign-in/password.md", "Authenticator app", "Set up the authenticator app.")
        loop = asyncio.get_running_loop()
        started = loop.time()
        while service.kb.get(PASSWORD).title != "Authenticator app":  # type: ignore[union-attr]
            assert loop.time() - started < 1.0, "the edit was not live within a second"
            await asyncio.sleep(0.02)
        assert ids(service.kb, "set up authenticator app")[0] == PASSWORD
        assert service.kb.vectors_pending == [PASSWORD]  # its encode is held up
    finally:
        encoder.release()
    await asyncio.wait_for(service.settled(), timeout=10)
    assert service.kb.vectors_pending == []
    stop.set()
    await asyncio.wait_for(watch, timeout=5)


async def test_an_edit_made_while_the_bot_was_starting_is_picked_up(root: Path) -> None:
    service = KnowledgeService(KnowledgeBase.load(root, encoder=GatedEncoder()))
    # saved after the knowledge base was read, before its watcher began
    write(root / "sign-in/password.md", "Authenticator app", "Set up the authenticator app.")
    stop = asyncio.Event()
    watch = asyncio.create_task(service.watch(stop))
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while service.kb.get(PASSWORD).title != "Authenticator app":  # type: ignore[union-attr]
            assert loop.time() - started < 5.0, "an edit made during start-up was never seen"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(watch, timeout=5)
