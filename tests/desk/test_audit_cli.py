"""``itbot audit list``: the audit log from a terminal, as a table or one JSON array."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.desk.actor import Actor
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import AuditEntry
from tests.conftest import itbot
from tests.desk.dashboard_support import PAT, SAM
from tests.desk.listening import listening_desk


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ITBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ITBOT_SEMANTIC", "off")
    return database_url


async def _seed(url: str) -> None:
    """An old sign-in, then Sam's MFA reset request that Pat approves."""
    db = Database(url)
    await db.upgrade()
    desk = listening_desk(slack=False)
    now = datetime.now(UTC)
    try:
        async with db.session() as session, session.begin():
            session.add(
                AuditEntry(
                    created_at=datetime(2025, 1, 6, 9, 0, tzinfo=UTC),
                    actor=PAT,
                    action="desk_sign_in",
                    subject=PAT,
                    details={"ip": "127.0.0.1"},
                )
            )
            sam = await staff_repo.get_or_create(session, email=SAM, council="dacorum")
            pat = await staff_repo.get_or_create(session, email=PAT, council="dacorum")
            pat.is_agent = True
            approval = await desk.approvals.request(
                session,
                kind="reset_mfa",
                requester=sam,
                subject=f"Reset MFA for Sam Taylor ({SAM})",
                channel="terminal",
                now=now - timedelta(minutes=5),
            )
            await desk.approvals.decide(
                session, approval.id, Actor.of(pat), approve=True, now=now, via="dashboard"
            )
    finally:
        await db.dispose()


def test_the_log_as_one_json_array(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_seed(env))
    code, out = itbot(capsys, "audit", "list", "--json")
    assert code == 0
    entries = json.loads(out)  # the whole output is one JSON array
    assert [(e["actor"], e["action"]) for e in entries] == [
        (PAT, "approval_approved"),
        (SAM, "approval_requested"),
        (PAT, "desk_sign_in"),
    ]
    approved = entries[0]
    assert approved["subject"] == f"Approval 1: Reset MFA for Sam Taylor ({SAM})"
    assert approved["details"] == {
        "approval_id": 1,
        "kind": "reset_mfa",
        "requested_via": "terminal",
        "channel": "dashboard",
        "outcome": "approved",
    }
    assert datetime.fromisoformat(approved["at"]).tzinfo is not None

    code, out = itbot(capsys, "audit", "list", "--json", "--actor", PAT.upper())
    assert [e["action"] for e in json.loads(out)] == ["approval_approved", "desk_sign_in"]
    code, out = itbot(capsys, "audit", "list", "--json", "--action", "approval_requested")
    assert [e["actor"] for e in json.loads(out)] == [SAM]
    code, out = itbot(capsys, "audit", "list", "--json", "--since", "2025-01-07")
    assert len(json.loads(out)) == 2
    code, out = itbot(capsys, "audit", "list", "--json", "--limit", "1")
    assert [e["action"] for e in json.loads(out)] == ["approval_approved"]
    code, out = itbot(capsys, "audit", "list", "--json", "--action", "nothing_like_it")
    assert (code, json.loads(out)) == (0, [])


def test_the_log_as_a_table(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_seed(env))
    code, out = itbot(capsys, "audit", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["When", "Actor", "Action", "Subject", "Details"]
    assert PAT in lines[1] and "approval_approved" in lines[1] and "outcome=approved" in lines[1]
    assert "Mon 6 Jan 2025, 09:00" in lines[3] and "ip=127.0.0.1" in lines[3]
    assert "3 entries, newest first" in out
    with pytest.raises(SystemExit):
        itbot(capsys, "audit", "list", "--since", "last week")
