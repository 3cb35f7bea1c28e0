"""The approvals page and the audit log page over real HTTP, for signed-in agents only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.desk.approvals import Approval
from bot.desk.service import Actor
from bot.settings import Settings
from bot.storage import audit
from bot.storage import staff as staff_repo
from bot.storage.models import AuditEntry
from tests.desk.dashboard_support import (
    PAT,
    ROBIN,
    SAM,
    Client,
    add_agent,
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


async def _request(client: Client, email: str = SAM, subject: str = "") -> int:
    """A request that waits for an agent, made through the desk's domain API (as the MFA
    reset flow does)."""
    async with database(client).session() as session, session.begin():
        council = "dacorum" if email.endswith("dacorum.gov.uk") else "aylesbury-vale"
        person = await staff_repo.get_or_create(session, email=email, council=council)
        approval = await desk(client).approvals.request(
            session,
            kind="reset_mfa",
            requester=person,
            subject=subject or f"Reset MFA for {person.display_name} ({email})",
            channel="web",
            now=datetime.now(UTC),
        )
        return approval.id


async def _status(client: Client, approval_id: int) -> str:
    async with database(client).session() as session:
        approval = await session.get(Approval, approval_id)
        assert approval is not None
        return approval.status


async def _post(client: Client, path: str, token: str | None) -> tuple[int, str, str]:
    data = {"csrf": token} if token is not None else {}
    response = await client.post(path, data=data, allow_redirects=False)
    return response.status, response.headers.get("Location", ""), await response.text()


async def test_pages_need_a_signed_in_agent(client: Client) -> None:
    approval_id = await _request(client)
    for path in ("/desk/approvals", "/desk/audit", "/desk/audit?actor=x"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/desk/login")
    status, where, _ = await _post(client, f"/desk/approvals/{approval_id}/approve", None)
    assert (status, where) == (303, "/desk/login")
    assert await _status(client, approval_id) == "pending"


async def test_an_agent_approves_from_the_page(client: Client) -> None:
    await add_agent(database(client))
    approval_id = await _request(client, subject=f"Reset MFA for Sam {HOSTILE}")
    token = await sign_in(client)
    page = await client.get("/desk/approvals")
    html = await page.text()
    assert page.status == 200 and 'href="/desk/approvals"' in html  # in the navigation
    assert HOSTILE not in html and "Reset MFA for Sam &lt;img src=x" in html
    assert SAM in html and "Dacorum Borough Council" in html and "web chat" in html
    assert re.search(r"\(in \d+ (min|h|days?)\b", html)  # a working hour: maybe after a weekend
    assert f'action="/desk/approvals/{approval_id}/approve"' in html

    status, where, _ = await _post(client, f"/desk/approvals/{approval_id}/approve", token)
    assert (status, where) == (303, "/desk/approvals?done=approved")
    after = await (await client.get(where)).text()
    assert "Approved. The change goes ahead" in after
    assert "Nothing is waiting for a decision" in after
    recent = after[after.index('id="recent"') :]
    assert "Approved" in recent and "Pat Lee" in recent
    assert await _status(client, approval_id) == "approved"

    # a second decision from a page not yet reloaded is refused, in words
    status, _, html = await _post(client, f"/desk/approvals/{approval_id}/deny", token)
    assert status == 409 and "already approved by Pat Lee" in html
    status, _, html = await _post(client, "/desk/approvals/999/approve", token)
    assert status == 404 and "There is no such approval request" in html
    assert (await client.post("/desk/approvals/1/maybe", data={"csrf": token})).status == 404


async def test_an_agent_can_not_approve_their_own_request(client: Client) -> None:
    await add_agent(database(client))
    mine = await _request(client, email=PAT)
    token = await sign_in(client)
    html = await (await client.get("/desk/approvals")).text()
    assert "Your own request: another agent must decide it." in html
    assert f"/desk/approvals/{mine}/approve" not in html
    status, _, html = await _post(client, f"/desk/approvals/{mine}/approve", token)
    assert status == 403
    assert "You made this request yourself, so another agent must approve or deny it." in html
    assert await _status(client, mine) == "pending"


async def test_a_decision_needs_the_forms_token(client: Client) -> None:
    await add_agent(database(client))
    approval_id = await _request(client)
    await sign_in(client)
    for token in (None, "forged"):
        status, _, html = await _post(client, f"/desk/approvals/{approval_id}/deny", token)
        assert status == 403 and "Form expired" in html
    assert await _status(client, approval_id) == "pending"


async def _entry(client: Client, *, at: datetime, actor: str, action: str, subject: str) -> None:
    async with database(client).session() as session, session.begin():
        session.add(
            AuditEntry(created_at=at, actor=actor, action=action, subject=subject, details={"n": 1})
        )


def _rows(html: str) -> list[str]:
    return re.findall(r'<td class="text">([^<]*)</td>', html)


async def test_the_audit_page_filters_and_pages_newest_first(client: Client) -> None:
    await add_agent(database(client))
    await add_agent(database(client), ROBIN)
    start = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    for n in range(55):  # one a day at noon, from Monday 3 March 2025
        await _entry(
            client,
            at=start + timedelta(days=n),
            actor=PAT if n % 2 else ROBIN,
            action="ticket_status",
            subject=f"JSD-{n:06d}",
        )
    await _entry(
        client, at=start, actor="system", action="approval_expired", subject=f"Approval 1 {HOSTILE}"
    )
    ticket = await raise_ticket(client, "Printer jammed")
    async with database(client).session() as session, session.begin():
        pat = await staff_repo.get_by_email(session, PAT)
        found = await desk(client).get(session, ticket.ref or "")
        assert pat is not None and found is not None
        await desk(client).claim(session, found, Actor.of(pat), now=datetime.now(UTC))
    await sign_in(client)

    first = await (await client.get("/desk/audit")).text()
    rows = _rows(first)
    assert rows[:2] == [PAT, ticket.ref]  # signing in, the claim: newest first
    assert rows[2:5] == ["JSD-000054", "JSD-000053", "JSD-000052"]
    assert len(rows) == 50 and 'rel="next"' in first
    second = await (await client.get("/desk/audit?page=2")).text()
    assert len(_rows(second)) == 8 and 'rel="next"' not in second
    assert HOSTILE not in second and "&lt;img src=x onerror=" in second

    by_robin = _rows(await (await client.get(f"/desk/audit?actor={ROBIN.upper()}")).text())
    assert len(by_robin) == 28 and by_robin[0] == "JSD-000054"
    claims = await (await client.get("/desk/audit?action=ticket_assigned")).text()
    assert _rows(claims) == [ticket.ref]
    assert '<option value="approval_expired"' in claims  # the actions the log holds
    assert _rows(await (await client.get("/desk/audit?subject=jsd-00004")).text()) == [
        f"JSD-{n:06d}" for n in range(49, 39, -1)
    ]
    week = await (await client.get("/desk/audit?since=2025-03-10&until=2025-03-16")).text()
    assert _rows(week) == [f"JSD-{n:06d}" for n in range(13, 6, -1)]
    odd = await (await client.get("/desk/audit?since=yesterday&subject=Approval")).text()
    assert "From should be a date like 2026-11-27" in odd and len(_rows(odd)) == 1


async def test_the_audit_repository_reads_what_the_page_shows(client: Client) -> None:
    """The repository behind the page and ``itbot audit list``: filters combine."""
    await add_agent(database(client))
    approval_id = await _request(client)
    async with database(client).session() as session, session.begin():
        pat = await staff_repo.get_by_email(session, PAT)
        assert pat is not None
        await desk(client).approvals.decide(
            session, approval_id, Actor.of(pat), approve=False, now=datetime.now(UTC), via="test"
        )
    async with database(client).session() as session:
        entries = await audit.search(session, audit.AuditFilter(subject="reset mfa"))
        denied = await audit.search(session, audit.AuditFilter(actor=PAT, action="approval_denied"))
        none = await audit.search(
            session, audit.AuditFilter(actor=PAT, action="approval_requested")
        )
        count = len((await session.execute(select(AuditEntry))).scalars().all())
    assert [e.action for e in entries] == ["approval_denied", "approval_requested"]
    assert [e.details["outcome"] for e in denied] == ["denied"] and none == []
    assert count == 2
