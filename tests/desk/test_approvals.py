"""The approvals queue's rules on SQLite and PostgreSQL: expiry in working hours, who may
decide, one decision only, the expiry run, the audit trail and the outbox rows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.notify import DESTINATION, Notifier, take_pending
from bot.desk.actor import Actor
from bot.desk.approvals import Approval
from bot.desk.outbox import OutboxWorker
from bot.desk.service import Desk
from bot.desk.tickets import OutboxMessage
from bot.desk.watch import sweep_once
from bot.settings import Settings
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.audit import AuditFilter, search
from bot.storage.models import AuditEntry, Staff
from tests.desk.listening import listening_desk

# Friday 27 November 2026, ten to five in London (GMT)
FRIDAY_1650 = datetime.fromisoformat("2026-11-27T16:50:00+00:00")
MONDAY_0920 = datetime.fromisoformat("2026-11-30T09:20:00+00:00")
SUBJECT = "Reset MFA for Sam Taylor (sam.taylor@dacorum.gov.uk)"


async def _people(session: AsyncSession) -> dict[str, Staff]:
    people = {
        "sam": await staff_repo.get_or_create(
            session,
            email="sam.taylor@dacorum.gov.uk",
            council="dacorum",
            display_name="Sam Taylor",
        ),
        "alex": await staff_repo.get_or_create(
            session, email="alex.jones@aylesburyvaledc.gov.uk", council="aylesbury-vale"
        ),
        "pat": await staff_repo.get_or_create(
            session, email="pat.lee@dacorum.gov.uk", council="dacorum", display_name="Pat Lee"
        ),
        "kim": await staff_repo.get_or_create(
            session, email="kim.shah@aylesburyvaledc.gov.uk", council="aylesbury-vale"
        ),
    }
    people["pat"].is_agent = people["kim"].is_agent = True
    return people


async def _request(
    desk: Desk, db: Database, who: str = "sam", *, now: datetime = FRIDAY_1650, **extra: Any
) -> int:
    async with db.session() as s, s.begin():
        people = await _people(s)
        approval = await desk.approvals.request(
            s,
            kind="reset_mfa",
            requester=people[who],
            subject=SUBJECT,
            channel="web",
            thread="",
            now=now,
            details={"email": people[who].email, **extra},
        )
        return approval.id


async def _decide(
    desk: Desk, db: Database, approval_id: int, who: str, *, approve: bool, now: datetime
) -> Any:
    async with db.session() as s, s.begin():
        people = await _people(s)
        return await desk.approvals.decide(
            s, approval_id, Actor.of(people[who]), approve=approve, now=now, via="dashboard"
        )


async def _approval(db: Database, approval_id: int) -> Approval:
    async with db.session() as s:
        approval = await s.get(Approval, approval_id)
        assert approval is not None
        return approval


async def _audit(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    async with db.session() as s:
        rows = (await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
        return [(r.actor, r.action, r.details) for r in rows]


async def _outbox(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    async with db.session() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [(r.kind, r.destination, r.payload) for r in rows]


async def test_a_request_on_friday_afternoon_expires_on_monday_morning(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db)
    approval = await _approval(db, approval_id)
    # one working hour: ten minutes on Friday, fifty on Monday from 08:30
    assert approval.expires_at == MONDAY_0920
    assert (approval.status, approval.kind, approval.council) == ("pending", "reset_mfa", "dacorum")
    assert approval.requester.email == "sam.taylor@dacorum.gov.uk"
    assert approval.subject == SUBJECT and approval.channel == "web"

    two_hours = listening_desk(approval_hours=2.5)
    later = await _approval(db, await _request(two_hours, db))
    assert later.expires_at == MONDAY_0920 + timedelta(hours=1, minutes=30)

    [(actor, action, details), _] = await _audit(db)
    assert (actor, action) == ("sam.taylor@dacorum.gov.uk", "approval_requested")
    assert details == {
        "approval_id": approval_id,
        "kind": "reset_mfa",
        "requested_via": "web",
        "channel": "web",
        "outcome": "pending",
    }


async def test_an_agent_approves_and_every_step_is_audited(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db)
    decision = await _decide(desk, db, approval_id, "pat", approve=True, now=FRIDAY_1650)
    assert decision.ok and decision.outcome == "approved"
    approval = await _approval(db, approval_id)
    assert approval.status == "approved" and approval.decided_at == FRIDAY_1650
    assert approval.decided_by is not None and approval.decided_by.email == "pat.lee@dacorum.gov.uk"
    assert [(actor, action, d["outcome"]) for actor, action, d in await _audit(db)] == [
        ("sam.taylor@dacorum.gov.uk", "approval_requested", "pending"),
        ("pat.lee@dacorum.gov.uk", "approval_approved", "approved"),
    ]
    _, _, details = (await _audit(db))[-1]
    assert details["channel"] == "dashboard" and details["requested_via"] == "web"


async def test_nobody_decides_their_own_request(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db, "pat")  # an agent asks for their own MFA reset
    refused = await _decide(desk, db, approval_id, "pat", approve=True, now=FRIDAY_1650)
    assert not refused.ok and refused.reason == "own_request"
    assert "another agent" in refused.message
    assert (await _approval(db, approval_id)).status == "pending"
    _, action, details = (await _audit(db))[-1]
    assert action == "approval_refused"
    assert (details["reason"], details["wanted"], details["outcome"]) == (
        "own_request",
        "approved",
        "refused",
    )
    approved = await _decide(desk, db, approval_id, "kim", approve=True, now=FRIDAY_1650)
    assert approved.ok


async def test_someone_who_is_not_an_agent_is_refused(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db)
    for who in ("alex", "sam"):  # staff, and the requester themself
        refused = await _decide(desk, db, approval_id, who, approve=True, now=FRIDAY_1650)
        assert not refused.ok and refused.reason == "not_agent"
        assert refused.message == "Only service desk agents can approve or deny requests."
    assert (await _approval(db, approval_id)).status == "pending"
    assert [a for _, a, _ in await _audit(db)].count("approval_refused") == 2
    system = Actor.remote("jira", "Kim")  # an agent elsewhere is not a proven agent here
    async with db.session() as s, s.begin():
        refused = await desk.approvals.decide(
            s, approval_id, system, approve=True, now=FRIDAY_1650, via="jira"
        )
    assert refused.reason == "not_agent"


async def test_a_request_is_decided_once(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db)
    assert (await _decide(desk, db, approval_id, "pat", approve=False, now=FRIDAY_1650)).ok
    again = await _decide(desk, db, approval_id, "kim", approve=True, now=FRIDAY_1650)
    assert not again.ok and again.reason == "decided"
    assert again.message == "This request was already denied by Pat Lee."
    approval = await _approval(db, approval_id)
    assert approval.status == "denied" and approval.decided_by is not None
    assert approval.decided_by.email == "pat.lee@dacorum.gov.uk"
    missing = await _decide(desk, db, 999, "kim", approve=True, now=FRIDAY_1650)
    assert (missing.reason, missing.approval) == ("not_found", None)
    actor, action, details = (await _audit(db))[-1]
    assert (actor, action, details["approval_id"]) == (
        "kim.shah@aylesburyvaledc.gov.uk",
        "approval_refused",
        999,
    )


async def test_a_decision_after_the_expiry_is_refused_and_marks_it_expired(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db)
    late = await _decide(desk, db, approval_id, "pat", approve=True, now=MONDAY_0920)
    assert not late.ok and late.reason == "expired"
    assert late.message.startswith("This request expired at Mon 30 Nov 09:20")
    approval = await _approval(db, approval_id)
    assert (approval.status, approval.decided_at, approval.decided_by_id) == (
        "expired",
        MONDAY_0920,
        None,
    )
    assert [(actor, action) for actor, action, _ in await _audit(db)][1:] == [
        ("system", "approval_expired"),
        ("pat.lee@dacorum.gov.uk", "approval_refused"),
    ]
    decided = [p for kind, _, p in await _outbox(db) if kind == "approval_decided"]
    assert decided[0] == {
        "approval_id": approval_id,
        "kind": "reset_mfa",
        "outcome": "expired",
        "decided_by": "",
    }
    # the watcher finds nothing left to expire
    async with db.session() as s, s.begin():
        assert await desk.approvals.expire_due(s, now=MONDAY_0920 + timedelta(days=1)) == []


async def test_the_watch_expires_what_is_due_once(db: Database) -> None:
    desk = listening_desk()
    due = await _request(desk, db)
    later = await _request(desk, db, now=MONDAY_0920)
    assert await sweep_once(db, desk, now=MONDAY_0920 - timedelta(minutes=1)) == 0
    assert await sweep_once(db, desk, now=MONDAY_0920) == 1
    assert await sweep_once(db, desk, now=MONDAY_0920 + timedelta(minutes=5)) == 0
    assert (await _approval(db, due)).status == "expired"
    assert (await _approval(db, later)).status == "pending"
    async with db.session() as s:
        pending = await desk.approvals.pending(s, now=MONDAY_0920)
        recent = await desk.approvals.recent(s)
    assert [a.id for a in pending] == [later] and [a.id for a in recent] == [due]
    async with db.session() as s:
        entries = await search(s, AuditFilter(action="approval_expired"))
    assert [(e.actor, e.details["outcome"]) for e in entries] == [("system", "expired")]


async def test_each_destination_gets_its_rows(db: Database) -> None:
    desk = listening_desk()  # with the "access" destination that carries out approved changes
    approved = await _request(desk, db)
    await _decide(desk, db, approved, "pat", approve=True, now=FRIDAY_1650)
    denied = await _request(desk, db)
    await _decide(desk, db, denied, "kim", approve=False, now=FRIDAY_1650)
    expired = await _request(desk, db)
    async with db.session() as s, s.begin():
        await desk.approvals.expire_due(s, now=MONDAY_0920)
    rows = [(kind, to, p["approval_id"], p.get("outcome")) for kind, to, p in await _outbox(db)]
    assert rows == [
        ("approval_requested", "slack", approved, None),
        ("approval_decided", "access", approved, "approved"),
        ("approval_decided", "slack", approved, "approved"),
        ("approval_requested", "slack", denied, None),
        ("approval_decided", "requester", denied, "denied"),
        ("approval_decided", "slack", denied, "denied"),
        ("approval_requested", "slack", expired, None),
        ("approval_decided", "requester", expired, "expired"),
        ("approval_decided", "slack", expired, "expired"),
    ]
    [approval_row] = [p for kind, to, p in await _outbox(db) if to == "access"]
    assert approval_row == {
        "approval_id": approved,
        "kind": "reset_mfa",
        "outcome": "approved",
        "decided_by": "pat.lee@dacorum.gov.uk",
    }
    # without Slack, only the requester hears (of denials and expiries)
    quiet = listening_desk(slack=False)
    other = await _request(quiet, db)
    await _decide(quiet, db, other, "pat", approve=False, now=FRIDAY_1650)
    assert [(k, to) for k, to, p in await _outbox(db) if p["approval_id"] == other] == [
        ("approval_decided", "requester")
    ]


async def test_nothing_that_looks_like_a_secret_is_kept(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db, note="my password is Hunter2!xyz")
    approval = await _approval(db, approval_id)
    assert approval.details["note"] == "my password is [redacted]"
    assert "Hunter2" not in repr(await _audit(db)) + repr(await _outbox(db))


async def test_two_agents_pressing_at_once_make_one_decision(db: Database) -> None:
    desk = listening_desk()
    approval_id = await _request(desk, db)
    both = await asyncio.gather(
        _decide(desk, db, approval_id, "pat", approve=True, now=FRIDAY_1650),
        _decide(desk, db, approval_id, "kim", approve=False, now=FRIDAY_1650),
    )
    assert sorted(d.ok for d in both) == [False, True]
    [won] = [d for d in both if d.ok]
    assert (await _approval(db, approval_id)).status == won.outcome
    decided = [p for kind, to, p in await _outbox(db) if kind == "approval_decided"]
    assert {p["outcome"] for p in decided} == {won.outcome}


async def test_the_requester_hears_of_a_denial_or_an_expiry_in_their_chat(db: Database) -> None:
    """In the web chat (no push): kept for their next turn, and the page's poll shows it."""
    settings = Settings.from_environ({})
    desk = listening_desk(slack=False)
    worker = OutboxWorker(db)
    worker.register(DESTINATION, Notifier(settings).handlers())
    denied = await _request(desk, db)
    await _decide(desk, db, denied, "pat", approve=False, now=FRIDAY_1650)
    approved = await _request(desk, db)
    await _decide(desk, db, approved, "kim", approve=True, now=FRIDAY_1650)
    await _request(desk, db)
    async with db.session() as s, s.begin():
        await desk.approvals.expire_due(s, now=MONDAY_0920)
    # the denial and the expiry are told; the approved change's row is for the "access"
    # destination, which this worker doesn't run (skipped here)
    assert await worker.run_once() == 3
    async with db.session() as s, s.begin():
        sam = await staff_repo.get_by_email(s, "sam.taylor@dacorum.gov.uk")
        assert sam is not None
        told = [reply.text for reply in await take_pending(s, sam.id, MONDAY_0920)]
    # two requests, two tickets: the outbox delivers rows of different tickets concurrently
    # (only one ticket's rows keep their order), so either may be kept first
    denial = (
        "The Joint ICT Service Desk didn't approve your request to reset your sign-in "
        "verification (MFA), so nothing has been changed. If you still need it, contact the "
        "Joint ICT Service Desk: 01632 960 200 or ictservicedesk@dacorum.gov.uk."
    )
    expiry = (
        "Nobody on the Joint ICT Service Desk could approve your request to reset your sign-in "
        "verification (MFA) in time, so it has lapsed and nothing has been changed. You can ask "
        "me again during the desk's working hours (Monday to Friday, 08:30 to 17:00), or contact "
        "the Joint ICT Service Desk: 01632 960 200 or ictservicedesk@dacorum.gov.uk."
    )
    assert sorted(told) == sorted([denial, expiry])
