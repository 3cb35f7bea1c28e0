"""The editors' loop through the command line: clusters of what no article answered
(with "No" ratings and "not IT" replies that were IT), a stub article for a cluster that
``itbot kb check`` accepts, and each article's figures against an independent count.

Conversations go through the real engine (the ``Chat`` helper) into the database, on
SQLite and PostgreSQL; the commands run as editors run them.
"""

from __future__ import annotations

import asyncio
import doctest
import itertools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import bot.conversation.gaps
import bot.conversation.stubs
from bot.app import open_services
from bot.conversation.engine import ConversationEngine
from bot.flows import default_registry
from bot.settings import Settings
from tests.bot.test_conversations import Chat
from tests.bot.test_kb_gaps import ARTICLES
from tests.conftest import ALEX, SAM, itbot, itbot_command
from tests.knowledge.articles import write_articles

PAT = "pat.lee@dacorum.gov.uk"
ROBIN = "robin.shah@aylesburyvaledc.gov.uk"
KIM = "kim.patel@dacorum.gov.uk"

SCREEN = """\
---
title: Show your laptop on a meeting room screen
summary: Connect your laptop to the screen in a meeting room or the council chamber.
questions: [the screen in the meeting room won't show my laptop]
owner: it-knowledge@dacorum.gov.uk
review_by: 2020-01-31
---
Plug the HDMI cable into your laptop, then press Windows and P and choose Duplicate.
"""

KB = {**ARTICLES, "device/meeting-room-screen.md": SCREEN}


@pytest.fixture
def env(
    database_url: str, embedding_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {
        "ITBOT_DATABASE_URL": database_url,
        "ITBOT_CACHE_DIR": str(embedding_cache),
        "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
        "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
        "ITBOT_KB_PATH": str(write_articles(tmp_path / "kb", KB)),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


async def raise_ticket(chat: Chat, summary: str) -> None:
    """Raise a ticket step by step, whatever the flow still needs to ask."""
    await chat.press_intent("raise_ticket")
    text = await chat.say(summary)
    for _ in range(4):
        if "Which of these is it about?" in text:
            text = await chat.press("Something else")
        elif "How much is this stopping you" in text:
            text = await chat.press("work around it")
        elif "Yes, raise it" in chat.buttons:
            text = await chat.press("Yes, raise it")
        else:
            break
    assert "Done: JSD-" in text, text


async def converse(settings: Settings) -> None:
    async with open_services(settings) as services:
        engine = ConversationEngine(services, default_registry())
        sam, alex, pat, robin, kim = (Chat(engine, who) for who in (SAM, ALEX, PAT, ROBIN, KIM))

        # two declines about one topic
        await sam.say("how do I use the microfiche reader in the archive room")
        await alex.say("microfiche reader in the archive room, how do I use it?")
        # an answer rated "No", one rated "Yes"
        assert "Here's the guide" in await sam.say("how do I set up an out of office")
        await sam.press("No")
        assert "Here's the guide" in await alex.say("how do I set up an out of office")
        await alex.press("Yes")
        # "not IT", and a ticket follows: it was IT
        assert "isn't something I can help with" in await pat.say(
            "the kiosk in reception is frozen"
        )
        await raise_ticket(pat, "The kiosk in reception is frozen on a blank screen")
        # "not IT", and the same thing asked in other words gets an answer: it was IT
        assert "isn't something I can help with" in await robin.say(
            "the telly in the council chamber is blank"
        )
        assert "Here's the guide" in await robin.say(
            "how do I show my laptop on the screen in the council chamber?"
        )
        await robin.press("Yes")
        # "not IT" rightly: what follows is another matter, so it stays out
        assert "isn't something I can help with" in await kim.say(
            "can I book the minibus for friday"
        )
        assert "Here's the guide" in await kim.say("how do I set up an out of office")


def gaps_json(capsys: pytest.CaptureFixture[str], *more: str) -> dict[str, Any]:
    code, out = itbot(capsys, "kb", "gaps", "--json", *more)
    assert code == 0, out
    report: dict[str, Any] = json.loads(out[out.index("{") :])
    return report


def test_clusters_hold_declines_no_ratings_and_not_it_that_was_it(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(converse(Settings.from_environ(env)))

    report = gaps_json(capsys)
    gaps = report["gaps"]
    assert isinstance(gaps, list)
    by_outcome = {next(iter(g["outcomes"])): g for g in gaps if len(g["outcomes"]) == 1}
    # largest first: the two microfiche declines
    assert gaps[0]["count"] == 2 and gaps[0]["outcomes"] == {"declined": 2}
    assert all(a["count"] >= b["count"] for a, b in itertools.pairwise(gaps))
    # the "No" rating: the question that led to the article
    assert by_outcome["rated_no"]["phrasings"] == ["how do I set up an out of office"]
    assert by_outcome["rated_no"]["councils"] == {"dacorum": 1}
    # "not IT" replies that were IT, and not the one that wasn't
    not_it = {p for g in gaps for p in g["phrasings"] if "not_it_but_was" in g["outcomes"]}
    assert not_it == {
        "the kiosk in reception is frozen",
        "the telly in the council chamber is blank",
    }
    assert not any("minibus" in p for g in gaps for p in g["phrasings"])
    assert report["questions_unanswered"] == 5
    # every cluster has an id, and the articles that come closest now
    ids = [g["id"] for g in gaps]
    assert len(set(ids)) == len(ids)
    assert gaps[0]["id"].startswith("use-microfiche-reader-archive-")
    rated_no = by_outcome["rated_no"]
    assert rated_no["closest"][0] == {
        "article": "email/out-of-office",
        "title": "Set up an automatic reply (out of office)",
    }
    # the ids are stable: the same over a shorter period and in the text report
    assert [g["id"] for g in gaps_json(capsys, "--days", "7")["gaps"]] == ids
    code, out = itbot(capsys, "kb", "gaps")
    assert code == 0, out
    assert f"id: {gaps[0]['id']}  (declined 2)" in out
    assert "closest: " in out
    assert 'answered by email/out-of-office, which was rated "No"' in out


def test_a_stub_for_a_cluster_passes_kb_check_and_is_never_overwritten(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    asyncio.run(converse(Settings.from_environ(env)))
    cluster = gaps_json(capsys)["gaps"][0]
    kb = Path(env["ITBOT_KB_PATH"])

    # as an editor runs it: a process, the settings from the environment
    run = subprocess.run(
        [*itbot_command(), "kb", "stub", cluster["id"], "--kb", str(kb)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    path = kb / "drafts" / f"{cluster['id']}.md"
    assert f"wrote {path}" in run.stdout
    text = path.read_text(encoding="utf-8")
    front = text.split("---")[1]
    assert "title: Microfiche reader in the archive room, how do I use it\n" in front
    assert "owner: ictservicedesk@aylesburyvaledc.gov.uk\n" in front  # the latest asker's desk
    assert "councils: [aylesbury-vale, dacorum]\n" in front
    for phrasing in cluster["phrasings"]:
        assert f"  - {phrasing}\n" in front or f"  - '{phrasing}'\n" in front
    assert "review_by: " in front and "valid_from: 2099-12-31" in front

    code, out = itbot(capsys, "kb", "check", "--kb", str(kb))
    assert code == 0, out
    assert "drafts/" not in out  # not a warning either
    # the draft is loaded (checked) but not served: staff still get the decline
    code, out = itbot(capsys, "kb", "search", cluster["phrasings"][0], "--kb", str(kb), "--json")
    assert json.loads(out[out.index("{") :])["decision"] != "answer"

    # never overwritten
    path.write_text(text + "An editor's work.\n", encoding="utf-8")
    code, out = itbot(capsys, "kb", "stub", cluster["id"], "--kb", str(kb))
    assert code == 1
    assert "already exists" in out
    assert path.read_text(encoding="utf-8").endswith("An editor's work.\n")

    # an unknown id: one clear line
    code, out = itbot(capsys, "kb", "stub", "no-such-cluster-000000")
    assert code == 1
    assert out.strip() == (
        "itbot kb stub: no cluster 'no-such-cluster-000000' in the last 90 days "
        "(see `itbot kb gaps` for the ids)"
    )


def test_a_stub_needs_a_writable_knowledge_base_folder(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(converse(Settings.from_environ(env)))
    cluster = gaps_json(capsys)["gaps"][0]
    monkeypatch.delenv("ITBOT_KB_PATH")  # the bundled articles
    code, out = itbot(capsys, "kb", "stub", cluster["id"])
    assert code == 1
    assert "No knowledge base folder is set (ITBOT_KB_PATH)" in out
    assert out.count("\n") == 1


def test_article_figures_match_an_independent_count(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    kb = Path(env["ITBOT_KB_PATH"])
    git = ["git", "-C", str(kb), "-c", "user.name=e", "-c", "user.email=e@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run(
        [*git, "commit", "-q", "-m", "articles", "--date", "2026-01-15T10:00:00+00:00"],
        env={**os.environ, "GIT_COMMITTER_DATE": "2026-01-15T10:00:00+00:00"},
        check=True,
    )
    # a change not committed yet: its file time
    room = kb / "calendar" / "book-a-meeting-room.md"
    room.write_text(room.read_text(encoding="utf-8") + "\nAsk reception.\n", encoding="utf-8")
    asyncio.run(converse(Settings.from_environ(env)))

    # counted by hand from the conversations above
    expected = {
        # given: sam, alex, kim; rated: sam No, alex Yes
        "email/out-of-office": (3, 0, 1, 1),
        # given: robin; rated Yes
        "device/meeting-room-screen": (1, 0, 1, 0),
        "calendar/book-a-meeting-room": (0, 0, 0, 0),
    }
    code, out = itbot(capsys, "kb", "usage", "--json")
    assert code == 0, out
    report = json.loads(out[out.index("{") :])
    rows = {a["article"]: a for a in report["articles"]}
    for article, (answered, offered, helpful, unhelpful) in expected.items():
        row = rows[article]
        assert (row["answered"], row["offered"], row["helpful"], row["unhelpful"]) == (
            answered,
            offered,
            helpful,
            unhelpful,
        ), article
        assert row["views"] == answered + offered
    assert rows["email/out-of-office"]["helpful_rate"] == 0.5
    assert rows["calendar/book-a-meeting-room"]["helpful_rate"] is None
    assert report["last_edited_from"] == "git"
    assert rows["email/out-of-office"]["last_edited"] == "2026-01-15T10:00:00+00:00"
    assert rows["calendar/book-a-meeting-room"]["last_edited"] > "2026-11"
    assert rows["device/meeting-room-screen"]["review_by"] == "2020-01-31"
    assert report["stale"] == ["device/meeting-room-screen"]
    assert report["never_used"] == ["calendar/book-a-meeting-room"]

    # one council: Aylesbury Vale's staff were alex and robin
    code, out = itbot(capsys, "kb", "usage", "--council", "aylesbury-vale", "--json")
    rows = {a["article"]: a for a in json.loads(out[out.index("{") :])["articles"]}
    assert rows["email/out-of-office"]["answered"] == 1
    assert rows["device/meeting-room-screen"]["answered"] == 1

    code, out = itbot(capsys, "kb", "usage")
    assert code == 0, out
    assert "device/meeting-room-screen  (review overdue)" in out
    assert "Never used in the period: 1" in out

    run = subprocess.run(
        [*itbot_command(), "kb", "usage", "--days", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert run.returncode != 0
    assert run.stderr.strip() == "itbot kb: --days must be at least 1"


def test_docstring_examples() -> None:
    assert doctest.testmod(bot.conversation.gaps).failed == 0
    assert doctest.testmod(bot.conversation.stubs).failed == 0
