"""Privacy (UK GDPR): people chat in the terminal chat (``itbot chat``'s channel), then the
data protection officer runs ``itbot privacy export``, ``purge`` and ``erase`` in real
processes, on SQLite and PostgreSQL; and ``itbot serve`` purges old texts on its own."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import subprocess
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.access.tables import OneTimeCode
from bot.app import build_desk, build_engine, build_outbox, create_app
from bot.channels.terminal import TerminalChat
from bot.desk.actor import Actor
from bot.desk.queries import by_ref
from bot.desk.tickets import Ticket, TicketComment
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import Conversation, Turn, utcnow
from bot.storage.web_sessions import WebSession
from bot.web import keys
from tests.conftest import ALEX, SAM, itbot_command, say, shared_services, sign_in

KIM = "kim.patel@dacorum.gov.uk"
AGENT = "pat.lee@dacorum.gov.uk"
SAMS_QUESTION = "how do i share my calendar"
KIMS_QUESTION = "how do I set up an out of office reply"
ALEXS_PROBLEM = "please raise a ticket for me, my second screen stays black"
AGENTS_WORDS = "Try the spare HDMI cable in the cupboard"


def itbot(database_url: str, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``itbot ARGV`` in a real process on the test's database."""
    environ = {k: v for k, v in os.environ.items() if k != "ITBOT_LOG_LEVEL"}
    return subprocess.run(
        [*itbot_command(), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env={
            **environ,
            "ITBOT_DATABASE_URL": database_url,
            "ITBOT_SEMANTIC": "off",
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
        },
        timeout=180,
        check=False,
    )


async def chat(services: Services, email: str, typed: str) -> str:
    """``email`` types ``typed`` (lines) into a new terminal chat, as ``itbot chat --as``
    does (its channel, in this process: the commands under test are the privacy ones)."""
    out = io.StringIO()
    terminal = TerminalChat(
        build_engine(services), email, out=out, links=lambda: services.knowledge.kb
    )
    await terminal.run(io.StringIO(typed))
    return out.getvalue()


def export(database_url: str, email: str) -> dict[str, Any]:
    result = itbot(database_url, "privacy", "export", "--email", email)
    assert result.returncode == 0, result.stderr
    held: dict[str, Any] = json.loads(result.stdout)
    return held


async def people_chat(database_url: str, db: Database) -> None:
    """Sam and Kim (Dacorum) each ask a question; Alex (Aylesbury Vale) raises a ticket,
    and an agent replies on it."""
    settings = Settings.from_environ(
        {
            "ITBOT_DATABASE_URL": database_url,
            "ITBOT_SEMANTIC": "off",
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
        }
    )
    async with shared_services(settings) as services:
        assert "Share your calendar" in await chat(services, SAM, SAMS_QUESTION + "\n")
        await chat(services, KIM, KIMS_QUESTION + "\n")
        out = await chat(services, ALEX, ALEXS_PROBLEM + "\ndevice\nblocked\nyes\n")
        assert "Done: JSD-000001" in out, out
        async with db.session() as s, s.begin():
            agent = await staff_repo.get_or_create(s, email=AGENT, council="dacorum")
            agent.is_agent = True
            ticket = await by_ref(s, "JSD-000001")
            assert ticket is not None
            await services.desk.comment(s, ticket, Actor.of(agent), AGENTS_WORDS, now=utcnow())
        await build_outbox(services).run_once()
        # Alex hears of the reply at their next turn: the agent's words are in that turn's reply
        assert AGENTS_WORDS in await chat(services, ALEX, "hi\n")


async def test_an_export_holds_their_words_and_nobody_elses(
    database_url: str, db: Database
) -> None:
    await people_chat(database_url, db)

    sam = export(database_url, SAM)
    said = [t["you_said"] for c in sam["conversations"] for t in c["turns"]]
    assert SAMS_QUESTION in said
    everything = json.dumps(sam)
    assert "out of office" not in everything and "second screen" not in everything
    assert sam["staff"]["email"] == SAM and sam["staff"]["council"] == "dacorum"
    assert sam["tickets"] == []

    alex = export(database_url, ALEX)
    everything = json.dumps(alex)
    [ticket] = alex["tickets"]
    assert ticket["ref"] == "JSD-000001" and ticket["status"] == "new"
    assert "second screen" in everything
    # the agent's reply is there as a fact, without the agent's words or name
    assert AGENTS_WORDS not in everything and AGENT not in everything
    assert "Pat Lee" not in everything
    # the news of it Alex was given says someone replied, not what or who
    assert "[someone else] wrote:\\n[someone else's words]" in everything
    [reply] = [c for c in ticket["comments"] if c["by"] == "agent"]
    assert reply["public"] is True and "text" not in reply
    assert all("text" not in c for c in ticket["comments"] if c["by"] != "you")
    assert SAMS_QUESTION not in everything and "out of office" not in everything

    unknown = itbot(database_url, "privacy", "export", "--email", "nobody@dacorum.gov.uk")
    assert unknown.returncode == 1 and unknown.stdout == ""
    # (INFO log lines above it, as every command logs by default)
    last = unknown.stderr.splitlines()[-1]
    assert last == "itbot: nobody with the address 'nobody@dacorum.gov.uk' is known"


async def test_purge_keeps_recent_texts_and_older_than_0_leaves_no_transcript(
    database_url: str, db: Database
) -> None:
    await people_chat(database_url, db)

    kept = itbot(database_url, "privacy", "purge")
    assert kept.returncode == 0, kept.stderr
    assert "more than 180 days ago" in kept.stdout and "  turns: 0\n" in kept.stdout
    said = [t["you_said"] for c in export(database_url, SAM)["conversations"] for t in c["turns"]]
    assert SAMS_QUESTION in said

    purged = itbot(database_url, "privacy", "purge", "--older-than", "0")
    assert purged.returncode == 0, purged.stderr
    counts = dict(
        line.strip().split(": ") for line in purged.stdout.splitlines() if line.startswith("  ")
    )
    assert int(counts["turns"]) >= 3 and counts["ticket transcripts"] == "1"

    sam = export(database_url, SAM)
    turns = [t for c in sam["conversations"] for t in c["turns"]]
    assert turns and all(t["you_said"] == "" and t["bot_replied"] == "" for t in turns)
    assert "calendar" not in json.dumps([t["you_said"] for t in turns])
    assert SAMS_QUESTION not in json.dumps(sam)
    # the facts stay: what was answered, with which article
    assert any(t["outcome"] == "answered" and t["details"].get("articles") for t in turns)

    alex = export(database_url, ALEX)
    [ticket] = alex["tickets"]
    assert ticket["transcript"] == [] and ticket["summary"] and ticket["status"] == "new"
    assert all(t["you_said"] == "" for c in alex["conversations"] for t in c["turns"])

    again = itbot(database_url, "privacy", "purge", "--older-than", "0")
    assert again.returncode == 0 and "  turns: 0\n" in again.stdout
    assert "  ticket transcripts: 0\n" in again.stdout

    bad = itbot(database_url, "privacy", "purge", "--older-than", "-3")
    assert bad.returncode == 2 and bad.stdout == ""
    assert "--older-than: must be a whole number of days, 0 or more (got '-3')" in bad.stderr


async def test_erase_asks_first_then_removes_and_audits(database_url: str, db: Database) -> None:
    await people_chat(database_url, db)

    refused = itbot(database_url, "privacy", "erase", "--email", ALEX, stdin="alex@typo.example\n")
    assert refused.returncode == 1
    assert "Type the address again to confirm" in refused.stderr
    assert "the address didn't match; nothing was erased" in refused.stderr
    assert export(database_url, ALEX)["tickets"]

    erased = itbot(database_url, "privacy", "erase", "--email", ALEX, stdin=ALEX.upper() + "\n")
    assert erased.returncode == 0, erased.stderr
    assert "conversations: 1" in erased.stdout and "tickets anonymised: 1" in erased.stdout

    gone = itbot(database_url, "privacy", "export", "--email", ALEX)
    assert gone.returncode == 1 and "is known" in gone.stderr

    # the ticket stays for the desk, anonymised: no name, address or words of Alex's
    shown = itbot(database_url, "desk", "show", "JSD-000001", "--json")
    assert shown.returncode == 0, shown.stderr
    ticket = json.loads(shown.stdout)
    assert ticket["status"] == "new" and ticket["summary"]
    assert ticket["requester"]["name"] == "Erased person"
    assert ticket["requester"]["email"].endswith("@erased.invalid")
    assert "alex" not in shown.stdout.lower(), shown.stdout
    # the summary is the desk's record and stays; what Alex typed does not
    assert ticket["summary"] == "My second screen stays black"
    assert ticket["transcript"] == [] and ticket["description"] == ticket["impact"] == ""
    assert ALEXS_PROBLEM not in shown.stdout
    assert AGENTS_WORDS in shown.stdout  # the agent's reply is the desk's, not Alex's
    async with db.session() as s:
        rows = (await s.execute(select(Conversation.id))).scalars().all()
        assert len(rows) == 2  # Sam's and Kim's are untouched
        stored = (await s.execute(select(Ticket))).unique().scalar_one()
        assert stored.transcript == [] and stored.description == ""

    audited = itbot(database_url, "audit", "list", "--action", "privacy_erased", "--json")
    assert audited.returncode == 0, audited.stderr
    [entry] = json.loads(audited.stdout)
    assert entry["subject"].startswith("staff record ")
    assert entry["details"]["conversations"] == 1 and "alex" not in audited.stdout.lower()

    # Sam is untouched; erasing twice finds nobody
    said = [t["you_said"] for c in export(database_url, SAM)["conversations"] for t in c["turns"]]
    assert SAMS_QUESTION in said
    twice = itbot(database_url, "privacy", "erase", "--email", ALEX, "--yes")
    assert twice.returncode == 1 and "is known" in twice.stderr

    # an agent can be erased too: their replies' words and their name leave the ticket
    agent = itbot(database_url, "privacy", "erase", "--email", AGENT, "--yes")
    assert agent.returncode == 0 and "ticket comments: 1" in agent.stdout, agent.stderr
    shown = itbot(database_url, "desk", "show", "JSD-000001", "--json")
    assert AGENTS_WORDS not in shown.stdout and "pat" not in shown.stdout.lower()
    [reply] = json.loads(shown.stdout)["comments"]
    assert reply["body"] == "[removed: the person's data was erased]"


async def test_serve_purges_texts_past_the_retention_period(settings: Settings) -> None:
    """``itbot serve``'s job: every ``ITBOT_PURGE_EVERY_SECONDS``, texts older than
    ``ITBOT_RETENTION_DAYS`` go, recent ones stay; finished tickets lose their texts."""
    settings = dataclasses.replace(settings, purge_every_seconds=1)
    db = Database(settings.database_url)
    await db.upgrade()
    now = utcnow()
    old = now - timedelta(days=settings.retention_days + 1)
    desk = build_desk(settings)
    async with db.session() as s, s.begin():
        sam = await staff_repo.get_or_create(s, email=SAM, council="dacorum")
        conversation = Conversation(staff_id=sam.id, channel="web", thread="", data={})
        s.add(conversation)
        await s.flush()
        s.add_all(
            [
                Turn(
                    conversation_id=conversation.id,
                    created_at=old,
                    user_text="my laptop password is on a sticky note",
                    reply_text="Here's how to reset it",
                    outcome="answered",
                    details={"articles": ["reset-password"], "question": "sticky note"},
                ),
                Turn(
                    conversation_id=conversation.id,
                    created_at=now,
                    user_text=SAMS_QUESTION,
                    reply_text="Share your calendar",
                    outcome="answered",
                ),
            ]
        )
        ticket = await desk.raise_ticket(
            s,
            requester=sam,
            summary="Printer jams",
            category="device",
            priority="P3",
            now=old,
            description="The printer by my desk eats paper",
            transcript=[{"user": "the printer eats paper"}],
        )
        await desk.comment(s, ticket, Actor.of(sam), "still jamming", now=old)
        ticket.status, ticket.csat_comment = "closed", "slow to answer"
        ticket_id = ticket.id

    async with shared_services(settings) as services:
        app = create_app(settings, services=services, watch_knowledge=False)
        async with TestClient(TestServer(app)):
            for _ in range(600):  # the first pass runs a second after the start
                async with db.session() as s:
                    texts = (await s.execute(select(Turn.user_text).order_by(Turn.id))).all()
                if texts[0][0] == "":
                    break
                await asyncio.sleep(0.05)
    async with db.session() as s:
        turns = (await s.execute(select(Turn).order_by(Turn.id))).scalars().all()
        stored = (
            (await s.execute(select(Ticket).where(Ticket.id == ticket_id))).unique().scalar_one()
        )
        comments = (await s.execute(select(TicketComment.body))).scalars().all()
    await db.dispose()
    assert (turns[0].user_text, turns[0].reply_text) == ("", "")
    assert turns[0].details == {"articles": ["reset-password"]} and turns[0].outcome == "answered"
    assert turns[1].user_text == SAMS_QUESTION  # recent: kept
    assert stored.transcript == [] and stored.description == "" and stored.csat_comment is None
    assert stored.summary == "Printer jams" and stored.status == "closed"
    assert comments and all(body == "[removed after the retention period]" for body in comments)


async def test_an_export_never_holds_a_hash_or_token(
    client: TestClient[web.Request, web.Application], settings: Settings
) -> None:
    """Sam signs in to the web chat with an emailed code and asks a question: the export
    lists the sign-in and the session, but not the code's hash or the session's."""
    await sign_in(client, SAM)
    await say(client, SAMS_QUESTION)
    held = export(settings.database_url, SAM)
    text = json.dumps(held)
    assert [c["purpose"] for c in held["access_codes"]] == ["sign_in"]
    assert any(w["proven"] for w in held["web_sessions"])
    db = client.app[keys.SERVICES].db
    async with db.session() as s:
        hashes = (await s.execute(select(WebSession.token_hash))).scalars().all()
        codes = (await s.execute(select(OneTimeCode.salt, OneTimeCode.digest))).all()
    assert hashes and codes
    for secret in [*hashes, *(part.hex() for row in codes for part in row)]:
        assert secret not in text
    for key in ("token_hash", "digest", "salt", "password_hash"):
        assert key not in text
