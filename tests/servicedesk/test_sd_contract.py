"""What every service desk connector promises the outbox worker, checked against each desk
(a real Request Tracker 5, fake Jira SM and ServiceNow servers) over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integrations.servicedesk import (
    TICKET_STATUSES,
    CommentDraft,
    DeskAuthError,
    DeskUnavailable,
    ServiceDesk,
    TicketNotFound,
    WebhookRejected,
)
from tests.servicedesk.support import Harness, draft


def comment(key: str, body: str, *, public: bool = True) -> CommentDraft:
    return CommentDraft(key=key, body=body, public=public, author_name="Sam Taylor")


async def test_create_fetch_find(harness: Harness, desk: ServiceDesk) -> None:
    filed = draft()
    ticket = await desk.create(filed)

    assert ticket.reference == filed.reference
    assert ticket.status == "new"
    assert ticket.url.startswith(harness.server.url)
    assert await desk.fetch(ticket.remote_id) == ticket
    assert await desk.find(filed.reference) == ticket
    assert await desk.find("JSD-NOT-FILED") is None
    assert await harness.count(filed.reference) == 1


async def test_fetching_a_missing_ticket_says_not_found(desk: ServiceDesk) -> None:
    created = await desk.create(draft())
    missing = {"rt": "999999", "jira": "HELP-999999", "servicenow": "f" * 32}[desk.name]

    with pytest.raises(TicketNotFound) as caught:
        await desk.fetch(missing)
    assert caught.value.remote_id == missing
    with pytest.raises(TicketNotFound):
        await desk.add_comment(missing, comment("k-missing", "Hello?"))
    with pytest.raises(TicketNotFound):
        await desk.fetch("not an id at all")
    assert (await desk.fetch(created.remote_id)).remote_id == created.remote_id


async def test_status_round_trip(harness: Harness, desk: ServiceDesk) -> None:
    ticket = await desk.create(draft())

    for status in ("open", "pending", "resolved", "open", "closed"):
        await desk.set_status(ticket.remote_id, status)
        await desk.set_status(ticket.remote_id, status)  # already there: a no-op
        fetched = await desk.fetch(ticket.remote_id)
        assert fetched.status == harness.status_after.get(status, status), status


async def test_comments_public_and_internal_are_added_once(
    harness: Harness, desk: ServiceDesk
) -> None:
    ticket = await desk.create(draft())
    public = comment("c-1", "I restarted my laptop and it still happens.")
    internal = comment("c-2", "Checked the sign-in logs: conditional access.", public=False)

    for _ in range(2):
        await desk.add_comment(ticket.remote_id, public)
        await desk.add_comment(ticket.remote_id, internal)

    found = await harness.comments(ticket.remote_id)
    assert len(found) == 2
    assert [flag for _, flag in found] == [True, False]
    assert "Sam Taylor" in found[0][0] and "still happens" in found[0][0]
    assert "conditional access" in found[1][0]


async def test_creating_twice_files_one_ticket(harness: Harness, desk: ServiceDesk) -> None:
    filed = draft()
    first = await desk.create(filed)
    second = await desk.create(filed)

    assert second.remote_id == first.remote_id
    assert await harness.count(filed.reference) == 1


async def test_crash_between_create_and_marking_sent(harness: Harness) -> None:
    """The worker created the ticket, then died before marking the outbox row sent; a new
    worker (a new connector) delivers the same draft again."""
    filed = draft()
    before_crash = harness.connect()
    await before_crash.create(filed)  # the result is lost with the worker
    await before_crash.aclose()

    after_restart = harness.connect()
    ticket = await after_restart.create(filed)

    assert ticket.reference == filed.reference
    assert await harness.count(filed.reference) == 1


async def test_desk_down_for_a_while(harness: Harness, desk: ServiceDesk) -> None:
    filed = draft()
    await harness.server.down()

    for _ in range(2):
        with pytest.raises(DeskUnavailable) as caught:
            await desk.create(filed)
        assert caught.value.retryable
        assert "cannot reach" in str(caught.value)

    await harness.server.up()
    ticket = await desk.create(filed)
    assert await desk.create(filed) == ticket
    assert await harness.count(filed.reference) == 1


async def test_server_errors_are_retryable(harness: Harness, desk: ServiceDesk) -> None:
    filed = draft()
    harness.faults.fail_next(3, status=500)
    for _ in range(3):
        with pytest.raises(DeskUnavailable) as caught:
            await desk.create(filed)
        assert caught.value.status == 500

    harness.faults.fail_next(1, status=429, retry_after="7")
    with pytest.raises(DeskUnavailable) as caught:
        await desk.create(filed)
    assert caught.value.retry_after == 7

    harness.faults.fail_next(1, status=502, after_handling=True)  # created, then a 502
    with pytest.raises(DeskUnavailable):
        await desk.create(filed)

    await desk.create(filed)
    assert await harness.count(filed.reference) == 1


async def test_answer_slower_than_the_timeout(harness: Harness) -> None:
    """The desk creates the ticket but answers too late: the retry must not file another."""
    impatient = harness.connect(timeout=0.5)
    filed = draft()
    harness.faults.slow(1.0, methods=("GET",))
    with pytest.raises(DeskUnavailable):
        await impatient.find(filed.reference)

    harness.faults.slow(1.0, methods=("POST", "PUT", "PATCH"))

    with pytest.raises(DeskUnavailable) as caught:
        await impatient.create(filed)
    assert "did not answer" in str(caught.value)

    harness.faults.clear()
    await harness.faults.settled()
    ticket = await impatient.create(filed)
    assert await harness.count(filed.reference) == 1

    harness.faults.slow(1.0, methods=("POST", "PUT", "PATCH"))
    note = comment("c-slow", "Sent once, answered late.")
    with pytest.raises(DeskUnavailable):
        await impatient.add_comment(ticket.remote_id, note)
    harness.faults.clear()
    await harness.faults.settled()
    await impatient.add_comment(ticket.remote_id, note)
    assert len(await harness.comments(ticket.remote_id)) == 1


async def test_wrong_credentials(harness: Harness) -> None:
    secret = {"rt": "token", "jira": "api_token", "servicenow": "password"}[harness.name]
    overrides: dict[str, Any] = {secret: "1-27-wrong" if harness.name == "rt" else "wrong"}
    wrong = harness.connect(**overrides)

    with pytest.raises(DeskAuthError) as caught:
        await wrong.find("JSD-000001")
    assert "credentials" in str(caught.value)
    assert "wrong" not in str(caught.value)


async def test_changes_since_reports_the_agent(harness: Harness, desk: ServiceDesk) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    ticket = await desk.create(draft())
    await desk.add_comment(ticket.remote_id, comment("c-own", "From the bot's side."))
    await desk.set_status(ticket.remote_id, "pending")
    await harness.agent_reply(ticket.remote_id, "Please try signing out and in.", public=True)
    await harness.agent_reply(ticket.remote_id, "Probably the MFA policy.", public=False)
    await harness.agent_set_status(ticket.remote_id, "resolved")

    changes = [c for c in await desk.changes_since(since) if c.remote_id == ticket.remote_id]

    comments = [c for c in changes if c.kind == "comment"]
    assert [(c.body, c.public) for c in comments] == [
        ("Please try signing out and in.", True),
        ("Probably the MFA policy.", False),
    ]
    assert all(c.author and "bot" not in c.author.lower() for c in comments)
    assert "resolved" in [c.status for c in changes if c.kind == "status"]
    assert "pending" not in [c.status for c in changes]  # the bot's own change
    assert all(c.reference == ticket.reference for c in changes)
    assert len({c.change_id for c in changes}) == len(changes)
    again = [c for c in await desk.changes_since(since) if c.remote_id == ticket.remote_id]
    assert [c.change_id for c in again] == [c.change_id for c in changes]
    later = datetime.now(UTC) + timedelta(seconds=2)
    assert [c for c in await desk.changes_since(later) if c.remote_id == ticket.remote_id] == []


async def test_webhooks_signed_and_forged(harness: Harness, desk: ServiceDesk) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    ticket = await desk.create(draft())
    await desk.add_comment(ticket.remote_id, comment("c-own", "The bot's own words."))
    await harness.agent_reply(ticket.remote_id, "Fixed on our side.", public=True)
    await harness.agent_set_status(ticket.remote_id, "resolved")
    await asyncio.sleep(0)

    parsed = []
    for headers, body in harness.webhooks():
        parsed += [c for c in desk.parse_webhook(headers, body) if c.remote_id == ticket.remote_id]
    assert ("comment", "Fixed on our side.", True) in [(c.kind, c.body, c.public) for c in parsed]
    assert "resolved" in [c.status for c in parsed if c.kind == "status"]
    assert "The bot's own words." not in [c.body for c in parsed]
    polled = {c.change_id for c in await desk.changes_since(since)}
    assert {c.change_id for c in parsed} <= polled  # webhook and polling de-duplicate

    headers, body = harness.webhooks()[-1]
    forged = body.replace(b"resolved", b"open") if b"resolved" in body else body + b" "
    with pytest.raises(WebhookRejected):
        desk.parse_webhook(headers, forged)
    with pytest.raises(WebhookRejected):
        desk.parse_webhook({}, body)
    without_secret = harness.connect(webhook_secret=None)
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        without_secret.parse_webhook(headers, body)


async def test_every_status_maps_both_ways(harness: Harness, desk: ServiceDesk) -> None:
    ticket = await desk.create(draft())
    for status in TICKET_STATUSES:
        await harness.agent_set_status(ticket.remote_id, status)
        assert (await desk.fetch(ticket.remote_id)).status == harness.status_after.get(
            status, status
        )
