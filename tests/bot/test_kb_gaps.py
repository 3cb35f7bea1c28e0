"""``itbot kb gaps``: what staff asked that no article answered, and unhelpful articles.

Conversations go through the real engine into the database; the report is read back
with the command editors run.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from bot.app import open_services
from bot.conversation.actions import FlowCommand
from bot.conversation.engine import ConversationEngine
from bot.conversation.messages import Incoming
from bot.flows import default_registry
from bot.settings import Settings
from tests.conftest import ALEX, SAM, itbot
from tests.knowledge.articles import write_articles

SECRET = "Tr0ub4dor&3xyz"

ARTICLES = {
    "email/out-of-office.md": """\
---
title: Set up an automatic reply (out of office)
summary: Let people know you are away and when you will be back.
questions: [how do I set up an out of office]
---
In Outlook on the web open Settings, then Automatic replies, and turn them on.
""",
    "calendar/book-a-meeting-room.md": """\
---
title: Book a meeting room
summary: Add a room to your meeting invitation in Outlook on the web.
---
Open the invitation, select Browse more rooms and pick a room.
""",
}

MICROFICHE = """\
---
title: Use the microfiche reader in the archive room
summary: Switch on the reader, load the film and save pages as PDF.
questions: [how do I use the microfiche reader]
---
Switch the microfiche reader on at the back, load the film and press Scan to save a page.
"""


@pytest.fixture
def env(
    database_url: str, embedding_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {
        "ITBOT_DATABASE_URL": database_url,
        "ITBOT_CACHE_DIR": str(embedding_cache),
        "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
        "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
        "ITBOT_KB_PATH": str(write_articles(tmp_path / "kb", ARTICLES)),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


async def converse(settings: Settings) -> None:
    """Staff of both councils ask questions, turn down offers and rate answers."""
    async with open_services(settings) as services:
        engine = ConversationEngine(services, default_registry())

        async def say(email: str, text: str) -> None:
            await engine.handle(Incoming(channel="web", email=email, text=text, proven=True))

        async def press(email: str, verb: str, value: str) -> None:
            action = FlowCommand("answer", verb, value)
            await engine.handle(Incoming(channel="web", email=email, press=action, proven=True))

        await say(SAM, "how do I use the microfiche reader in the archive room")
        await say(ALEX, "microfiche reader in the archive room, how do I use it?")
        await say(SAM, f"my password is {SECRET} - how do I book the minibus for a site visit")
        # turning down the articles offered for a question
        await press(ALEX, "none", "where is the parking permit renewal form")
        # an answer rated unhelpful by one person, helpful by another
        await say(SAM, "how do I set up an out of office")
        await press(SAM, "feedback", "no:email/out-of-office")
        await say(ALEX, "how do I set up an out of office")
        await press(ALEX, "feedback", "yes:email/out-of-office")


def test_gaps_groups_unanswered_questions_and_lists_unhelpful_articles(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    asyncio.run(converse(Settings.from_environ(env)))

    code, out = itbot(capsys, "kb", "gaps", "--json")
    assert code == 0, out
    report = json.loads(out[out.index("{") :])
    gaps = report["gaps"]
    # the two microfiche questions, from both councils, are one topic, asked most
    assert gaps[0]["count"] == 2
    assert gaps[0]["councils"] == {"dacorum": 1, "aylesbury-vale": 1}
    assert gaps[0]["outcomes"] == {"declined": 2}
    assert any("microfiche" in p for p in gaps[0]["phrasings"])
    assert gaps[0]["article_now"] is None
    others = {p for g in gaps[1:] for p in g["phrasings"]}
    assert "where is the parking permit renewal form" in others  # "none of these"
    assert any("minibus" in p and "[redacted]" in p for p in others)
    assert SECRET not in out
    # the answer rated "No" counts as not answered too
    assert report["questions_unanswered"] == 5
    assert {"how do I set up an out of office"} in [set(g["phrasings"]) for g in gaps]
    assert report["unhelpful"] == [
        {
            "article": "email/out-of-office",
            "title": "Set up an automatic reply (out of office)",
            "unhelpful": 1,
            "helpful": 1,
            "questions": ["how do I set up an out of office"],
        }
    ]

    # one council's staff only
    code, out = itbot(capsys, "kb", "gaps", "--council", "aylesbury-vale", "--json")
    assert code == 0, out
    report = json.loads(out[out.index("{") :])
    assert [g["count"] for g in report["gaps"]] == [1, 1]  # microfiche, "none of these"
    assert report["unhelpful"] == []

    # once an editor adds an article, the report says the topic is answered now
    updated = write_articles(
        tmp_path / "kb2", {**ARTICLES, "archive/microfiche-reader.md": MICROFICHE}
    )
    code, out = itbot(capsys, "kb", "gaps", "--kb", str(updated), "--json")
    assert code == 0, out
    report = json.loads(out[out.index("{") :])
    assert report["gaps"][0]["article_now"] == "archive/microfiche-reader"

    # what an editor reads
    code, out = itbot(capsys, "kb", "gaps")
    assert code == 0, out
    assert "5 not answered" in out
    assert '2x  "microfiche reader in the archive room, how do I use it?"' in out
    assert "Rated unhelpful (No / Yes):" in out
    assert "1 / 1  email/out-of-office" in out
    assert SECRET not in out


def test_gaps_with_nothing_recorded_says_so(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = itbot(capsys, "db", "upgrade")
    assert code == 0, out
    code, out = itbot(capsys, "kb", "gaps", "--days", "7")
    assert code == 0, out
    assert "last 7 days: 0 questions for the knowledge base, 0 not answered" in out
    assert "No unanswered questions." in out
    assert "No article was rated unhelpful." in out
