"""``itbot desk``: list and show tickets, add and remove dashboard agents."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.desk.accounts import DeskAccount
from bot.desk.passwords import verify_password
from bot.desk.service import Actor, Desk
from bot.storage import Database
from bot.storage import staff as staff_repo
from tests.conftest import itbot
from tests.desk.dashboard_support import ALEX, PASSWORD, PAT, SAM, add_agent


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ITBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ITBOT_SEMANTIC", "off")
    return database_url


async def _seed(url: str) -> list[str]:
    db = Database(url)
    await db.upgrade()
    desk = Desk()
    now = datetime.now(UTC)
    try:
        pat = await add_agent(db, PAT, password=None)
        async with db.session() as session, session.begin():
            sam = await staff_repo.get_or_create(session, email=SAM, council="dacorum")
            alex = await staff_repo.get_or_create(session, email=ALEX, council="aylesbury-vale")
            agent = await staff_repo.get_by_email(session, pat.email)
            assert agent is not None
            urgent = await desk.raise_ticket(
                session,
                requester=sam,
                summary="Council website forms are down",
                category="other",
                priority="P1",
                now=now - timedelta(days=3),
                transcript=[{"at": now.isoformat(), "user": "forms down", "bot": "Sorry!"}],
            )
            calm = await desk.raise_ticket(
                session, requester=alex, summary="New mouse please", category="device",
                priority="P4", now=now,
            )  # fmt: skip
            done = await desk.raise_ticket(
                session, requester=alex, summary="Reset my PIN", category="sign-in",
                priority="P3", now=now,
            )  # fmt: skip
            await desk.claim(session, urgent, Actor.of(agent), now=now)
            await desk.comment(session, urgent, Actor.of(agent), "Web team called", now=now)
            await desk.comment(
                session, urgent, Actor.of(agent), "Hosting outage", now=now, public=False
            )
            await desk.set_status(session, done, Actor.of(agent), "resolved", now=now)
            return [urgent.ref or "", calm.ref or "", done.ref or ""]
    finally:
        await db.dispose()


def test_list_shows_the_queue_most_urgent_first(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    urgent, calm, done = asyncio.run(_seed(env))
    code, out = itbot(capsys, "desk", "list")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("JSD-")]
    assert [line.split()[0] for line in lines] == [urgent, calm]
    assert "Breached" in lines[0] and PAT in lines[0] and "unassigned" in lines[1]
    assert "2 of 2 tickets" in out

    code, out = itbot(capsys, "desk", "list", "--council", "aylesbury-vale", "--json")
    data = json.loads(out.splitlines()[-1])
    assert code == 0 and data["total"] == 1
    assert [t["ref"] for t in data["tickets"]] == [calm]
    assert data["tickets"][0]["sla"]["resolution"]["state"] == "ok"

    code, out = itbot(capsys, "desk", "list", "--status", "resolved", "--json")
    assert [t["ref"] for t in json.loads(out.splitlines()[-1])["tickets"]] == [done]
    code, out = itbot(capsys, "desk", "list", "--status", "any", "--json")
    assert json.loads(out.splitlines()[-1])["total"] == 3


def test_show_tells_the_whole_story(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    urgent, _, _ = asyncio.run(_seed(env))
    code, out = itbot(capsys, "desk", "show", urgent.lower())
    assert code == 0
    for part in (
        f"{urgent}  Council website forms are down",
        "Requester:  Sam Taylor <sam.taylor@dacorum.gov.uk>",
        "Resolution: due",
        "Requester: forms down",
        "Bot: Sorry!",
        "Web team called",
        "[internal] Pat Lee (agent)",
        "assigned  — → pat.lee@dacorum.gov.uk",
    ):
        assert part in out, part

    code, out = itbot(capsys, "desk", "show", urgent, "--json")
    data = json.loads(out.splitlines()[-1])
    assert data["assignee"] == PAT and data["status"] == "open"
    assert [c["public"] for c in data["comments"]] == [True, False]
    assert [e["kind"] for e in data["events"]] == ["created", "assigned", "commented", "commented"]
    assert data["transcript"][0]["user"] == "forms down"

    code, out = itbot(capsys, "desk", "show", "JSD-999999")
    assert code == 1 and "there is no ticket JSD-999999" in out


def test_add_agent_reads_the_password_twice_and_stores_only_a_hash(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "bot", "desk", "add-agent", "Pat.Lee@dacorum.gov.uk"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert "pat.lee@dacorum.gov.uk can now sign in at /desk" in process.stdout
    assert PASSWORD not in process.stdout + process.stderr

    async def stored() -> tuple[str, bool]:
        db = Database(env)
        try:
            async with db.session() as session:
                hashed = (await session.execute(select(DeskAccount.password_hash))).scalar_one()
                staff = await staff_repo.get_by_email(session, PAT)
                return hashed, bool(staff and staff.is_agent)
        finally:
            await db.dispose()

    hashed, is_agent = asyncio.run(stored())
    assert is_agent and PASSWORD not in hashed and verify_password(PASSWORD, hashed)

    code, out = itbot(capsys, "desk", "add-agent", PAT, stdin="a new password 2\nsomething else\n")
    assert code == 1 and "different" in out
    code, out = itbot(capsys, "desk", "add-agent", PAT, stdin="short\nshort\n")
    assert code == 1 and "at least 12 characters" in out
    code, out = itbot(capsys, "desk", "add-agent", "someone@example.com", stdin="")
    assert code == 2 and "council email address" in out
    new = "a new password 2"
    code, out = itbot(capsys, "desk", "add-agent", PAT, stdin=f"{new}\n{new}\n")
    assert code == 0 and "Password changed" in out
    assert verify_password(new, asyncio.run(stored())[0])


def test_sso_agents_and_removing_agents(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = itbot(capsys, "desk", "add-agent", ALEX, "--sso")
    assert code == 0 and "SSO" in out
    code, out = itbot(capsys, "desk", "remove-agent", ALEX)
    assert code == 0 and "no longer an agent" in out

    async def is_agent() -> bool:
        db = Database(env)
        try:
            async with db.session() as session:
                staff = await staff_repo.get_by_email(session, ALEX)
                return bool(staff and staff.is_agent)
        finally:
            await db.dispose()

    assert not asyncio.run(is_agent())
    code, out = itbot(capsys, "desk", "remove-agent", "nobody@dacorum.gov.uk")
    assert code == 1


def test_removing_an_agent_who_is_still_listed_says_so(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITBOT_DESK_AGENTS", ALEX)
    code, out = itbot(capsys, "desk", "add-agent", ALEX, "--sso")
    assert code == 0
    code, out = itbot(capsys, "desk", "remove-agent", ALEX)
    assert code == 0 and "no longer an agent" in out
    assert "still in ITBOT_DESK_AGENTS" in out
