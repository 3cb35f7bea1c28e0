"""The ticket page over real HTTP: the whole story on one page, and the agent's actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.desk.service import Actor
from bot.desk.tickets import OutboxMessage, Ticket, TicketComment, TicketEvent
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import AuditEntry
from tests.desk.dashboard_support import (
    PAT,
    ROBIN,
    Client,
    add_agent,
    csrf_in,
    database,
    desk,
    quick_settings,
    raise_ticket,
    sign_in,
)

HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick_settings(database_url, tmp_path)


async def _stored(client: Client, ref: str) -> tuple[Ticket, list[str], list[str], list[str]]:
    """The ticket, its event kinds, comment kinds (public/internal) and audit actions."""
    async with database(client).session() as session:
        ticket = await desk(client).get(session, ref)
        assert ticket is not None
        events = await session.execute(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
        )
        comments = await session.execute(
            select(TicketComment.public).where(TicketComment.ticket_id == ticket.id)
        )
        audit = await session.execute(select(AuditEntry.action).where(AuditEntry.subject == ref))
        return (
            ticket,
            list(events.scalars()),
            ["public" if p else "internal" for p in comments.scalars()],
            list(audit.scalars()),
        )


async def test_the_ticket_page_tells_the_whole_story(client: Client) -> None:
    await add_agent(database(client))
    opened = datetime.now(UTC) - timedelta(days=10)
    ticket = await raise_ticket(
        client,
        "Shared mailbox missing",
        priority="P2",
        opened=opened,
        transcript=[
            {"at": opened.isoformat(), "user": f"where is my mailbox {HOSTILE}", "bot": "Try …"},
            {"at": opened.isoformat(), "user": "still missing", "bot": ""},
        ],
    )
    async with database(client).session() as session, session.begin():
        pat = await staff_repo.get_by_email(session, PAT)
        found = await desk(client).get(session, ticket.ref or "")
        assert pat is not None and found is not None
        now = datetime.now(UTC)
        await desk(client).comment(session, found, Actor.of(pat), "Looking now", now=now)
        await desk(client).comment(
            session, found, Actor.of(pat), f"Check licence {HOSTILE}", now=now, public=False
        )
    await sign_in(client)
    response = await client.get(f"/desk/tickets/{ticket.ref}")
    html = await response.text()
    assert response.status == 200
    for fact in (
        "Sam Taylor &lt;sam.taylor@dacorum.gov.uk&gt;",
        "Dacorum Borough Council",
        "<dt>Category</dt><dd>email</dd>",
        "<strong>P2</strong>",
        "Unassigned",
        "Response due",
        "Resolution due",
        "still missing",
        "Looking now",
        "Internal note — not shown to the requester",
    ):
        assert fact in html, fact
    resolution = html.split('id="clock-resolution"')[1].split("</dd>")[0]
    assert "Breached" in resolution
    assert HOSTILE not in html and "&lt;img src=x onerror=" in html
    assert html.count('class="comment internal"') == 1
    assert html.count('<tr data-kind="commented">') == 2
    lowercase = await client.get(f"/desk/tickets/{(ticket.ref or '').lower()}")
    assert lowercase.status == 200
    missing = await client.get("/desk/tickets/JSD-999999")
    assert missing.status == 404


async def test_actions_change_the_ticket_and_leave_a_trail(client: Client) -> None:
    await add_agent(database(client))
    robin = await add_agent(database(client), ROBIN)
    ticket = await raise_ticket(client, "VPN drops every hour", priority="P3")
    ref = ticket.ref or ""
    token = await sign_in(client)

    async def act(action: str, **data: str) -> str:
        response = await client.post(
            f"/desk/tickets/{ref}/{action}", data={"csrf": token, **data}, allow_redirects=False
        )
        assert response.status == 303, await response.text()
        page = await client.get(response.headers["Location"])
        return await page.text()

    html = await act("claim")
    assert "You have taken this ticket" in html
    stored, *_ = await _stored(client, ref)
    assert stored.status == "open" and stored.assignee is not None
    assert stored.assignee.email == PAT

    await act("assign", assignee=str(robin.id))
    before_due = stored.resolution_due
    html = await act("priority", priority="P1")
    assert "the SLA clocks were recalculated" in html
    await act("comment", body="Please restart the VPN client", visibility="public")
    await act("comment", body="Known issue with the firewall", visibility="internal")
    html = await act("status", status="pending")
    assert '<dd id="status">Pending requester</dd>' in html
    assert "Paused: waiting for the requester" in html
    html = await act("status", status="resolved")

    stored, events, comments, audit = await _stored(client, ref)
    assert stored.assignee is not None and stored.assignee.email == ROBIN
    assert stored.priority == "P1" and stored.resolution_due < before_due
    assert stored.status == "resolved" and stored.resolved_at is not None
    assert stored.first_response_at is not None
    assert comments == ["public", "internal"]
    assert events == [
        "created", "assigned", "assigned", "priority", "commented", "commented", "status", "status"
    ]  # fmt: skip
    assert audit == [
        "ticket_assigned", "ticket_assigned", "ticket_priority", "ticket_status", "ticket_status"
    ]  # fmt: skip
    async with database(client).session() as session:
        kinds = await session.execute(
            select(OutboxMessage.kind, OutboxMessage.destination).where(
                OutboxMessage.ticket_id == stored.id
            )
        )
        # no Slack is configured here: only the requester's notifier listens
        assert {("status_changed", "requester"), ("csat_requested", "requester")} <= {
            (kind, to) for kind, to in kinds.all()
        }
    assert "Known issue with the firewall" in html and "Resolved" in html


async def test_refusals_are_shown_on_the_page(client: Client) -> None:
    await add_agent(database(client))
    ticket = await raise_ticket(client, "Old laptop to collect", priority="P4")
    ref = ticket.ref or ""
    token = await sign_in(client)

    async def act(action: str, **data: str) -> tuple[int, str]:
        response = await client.post(f"/desk/tickets/{ref}/{action}", data={"csrf": token, **data})
        return response.status, await response.text()

    status, html = await act("priority", priority="P9")
    assert status == 409 and "Priority must be one of" in html
    status, html = await act("comment", body="   ")
    assert status == 409 and "A comment needs some text" in html
    status, html = await act("status", status="new")
    assert status == 409 and "Status must be one of open, pending, resolved, closed" in html
    status, html = await act("assign", assignee="999999")
    assert status == 409 and "Choose an agent" in html
    assert (await act("status", status="closed"))[0] == 200
    status, html = await act("claim")
    assert status == 409 and "reopen it first" in html
    status, _ = await act("explode")
    assert status == 404
    response = await client.post("/desk/tickets/JSD-999999/claim", data={"csrf": token})
    assert response.status == 404
    page = await client.get(f"/desk/tickets/{ref}")
    assert 'id="claim"' not in await page.text(), "closed tickets offer no claim button"


async def test_a_reply_is_escaped_wherever_it_is_shown(client: Client) -> None:
    await add_agent(database(client))
    ticket = await raise_ticket(client, "Weird characters")
    page = await client.get("/desk/", allow_redirects=True)
    assert page.url.path == "/desk/login"
    await sign_in(client)
    html = await (await client.get(f"/desk/tickets/{ticket.ref}")).text()
    response = await client.post(
        f"/desk/tickets/{ticket.ref}/comment",
        data={"csrf": csrf_in(html), "body": HOSTILE, "visibility": "public"},
    )
    text = await response.text()
    assert HOSTILE not in text and "&lt;img src=x" in text
