"""Repository functions the channels and pages call instead of writing SQL (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.desk import accounts
from bot.desk import queries as tickets_repo
from bot.desk.service import Desk
from bot.storage import Database, conversations, slack_inbox, slack_users
from bot.storage import staff as staff_repo

SAM = "sam.taylor@dacorum.gov.uk"
PAT = "pat.lee@dacorum.gov.uk"


async def test_tickets_are_found_by_reference_and_requester(db: Database) -> None:
    desk, now = Desk(), datetime.now(UTC)
    async with db.session() as session, session.begin():
        sam = await staff_repo.get_or_create(session, email=SAM, council="dacorum")
        older = await desk.raise_ticket(
            session,
            requester=sam,
            summary="Printer jams",
            category="device",
            priority="P3",
            now=now - timedelta(hours=1),
            transcript=[],
        )
        newer = await desk.raise_ticket(
            session,
            requester=sam,
            summary="Outlook is slow",
            category="email",
            priority="P3",
            now=now,
            transcript=[],
        )
        older.status = "resolved"
    assert newer.ref is not None
    async with db.session() as session:
        assert await tickets_repo.ref_exists(session, f" {newer.ref.lower()} ")
        assert not await tickets_repo.ref_exists(session, "JSD-999999")
        found = await tickets_repo.by_ref(session, newer.ref.lower())
        assert found is not None and found.id == newer.id
        open_ones = await tickets_repo.for_requester(session, sam.id)
        every = await tickets_repo.for_requester(session, sam.id, open_only=False)
    assert [t.summary for t in open_ones] == ["Outlook is slow"]
    assert [t.summary for t in every] == ["Outlook is slow", "Printer jams"]  # newest first


async def test_agents_and_removing_one(db: Database) -> None:
    async with db.session() as session, session.begin():
        await accounts.add_agent(
            session, email=PAT, council="dacorum", password_hash="x", now=datetime.now(UTC)
        )
        await staff_repo.get_or_create(session, email=SAM, council="dacorum")
    async with db.session() as session, session.begin():
        assert [s.email for s in await staff_repo.agents(session)] == [PAT]
        assert await accounts.remove_agent(session, PAT.upper())
    async with db.session() as session, session.begin():
        assert await staff_repo.agents(session) == []
        assert await accounts.get_account(session, PAT) is None
        assert not await accounts.remove_agent(session, "nobody@dacorum.gov.uk")


async def test_a_slack_id_follows_the_account_to_its_new_address(db: Database) -> None:
    async with db.session() as session, session.begin():
        await staff_repo.get_or_create(session, email=SAM, council="dacorum", slack_user_id="U1")
    async with db.session() as session, session.begin():
        found = await slack_users.by_slack_user(session, "U1")
        assert found is not None and found.email == SAM
        await slack_users.release_slack_user(session, "U1", keep_email=SAM)  # same address
    async with db.session() as session, session.begin():
        assert await slack_users.by_slack_user(session, "U1") is not None
        await slack_users.release_slack_user(session, "U1", keep_email=PAT)
    async with db.session() as session:
        assert await slack_users.by_slack_user(session, "U1") is None


async def test_recent_turn_details_newest_first(db: Database) -> None:
    async with db.session() as session, session.begin():
        sam = await staff_repo.get_or_create(session, email=SAM, council="dacorum")
        conversation = await conversations.load_for_update(session, sam, "web", "")
        for n, outcome in enumerate(["answered", "smalltalk", "chose_article", "answered"]):
            await conversations.add_turn(
                session, conversation, outcome=outcome, details={"articles": [f"a{n}"]}
            )
            await session.flush()
    async with db.session() as session:
        details = await conversations.recent_turn_details(
            session,
            ("answered", "chose_article"),
            since=datetime.now(UTC) - timedelta(days=1),
            limit=2,
        )
        none_yet = await conversations.recent_turn_details(
            session, ("answered",), since=datetime.now(UTC) + timedelta(days=1), limit=5
        )
    assert details == [{"articles": ["a3"]}, {"articles": ["a2"]}]
    assert none_yet == []


async def test_inbox_rows_fail_and_are_pruned(db: Database) -> None:
    insert = slack_inbox.BatchInsert(db.engine.dialect)
    now = datetime.now(UTC)
    rows = [
        (f"event:E{n}", "message", "U1:D1", {"n": n}, slack_inbox.PENDING, 0, now, now)
        for n in range(2)
    ]
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        assert await insert(conn, rows) == {"event:E0", "event:E1"}
        assert await insert(conn, rows[:1]) == set()  # a retry of a recorded delivery
    async with db.engine.begin() as conn:
        claimed = await slack_inbox.claim(
            conn, worker_id="w", limit=1, now=now, lease_until=now + timedelta(minutes=1)
        )
    assert [row.payload for row in claimed] == [{"n": 0}]  # oldest first
    async with db.engine.begin() as conn:
        assert not await slack_inbox.fail(conn, claimed[0].id, worker_id="other", error="", now=now)
        assert await slack_inbox.fail(conn, claimed[0].id, worker_id="w", error="Boom", now=now)
        assert await slack_inbox.counts(conn) == {"failed": 1, "pending": 1}
        assert await slack_inbox.prune(conn, finished_before=now) == 0
        assert await slack_inbox.prune(conn, finished_before=now + timedelta(seconds=1)) == 1
        assert await slack_inbox.counts(conn) == {"pending": 1}
