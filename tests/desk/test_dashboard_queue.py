"""The queue page over real HTTP: filters, SLA highlighting, paging, escaping, timing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.desk.queue import QueueFilter
from bot.desk.service import Actor
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.web.desk import listing
from tests.desk.dashboard_support import (
    ALEX,
    PAT,
    SAM,
    Client,
    add_agent,
    at_risk_opening,
    database,
    desk,
    quick_settings,
    raise_ticket,
    sign_in,
)

_ROW = re.compile(r'<tr class="sla-(\w+)" data-ref="([A-Z]+-\d+)">')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick_settings(database_url, tmp_path)


async def rows(client: Client, query: str = "") -> list[tuple[str, str]]:
    """(ref, SLA state) of each row the queue shows for ``query``, in order."""
    response = await client.get("/desk/" + query)
    assert response.status == 200, await response.text()
    return [(ref, state) for state, ref in _ROW.findall(await response.text())]


async def refs(client: Client, query: str = "") -> list[str]:
    return [ref for ref, _ in await rows(client, query)]


async def _seed(client: Client) -> dict[str, str]:
    now = datetime.now(UTC)
    breached = await raise_ticket(
        client, "Email bounces for the whole team", priority="P1", opened=now - timedelta(days=20)
    )
    fine = await raise_ticket(client, "Calendar not syncing on phone", email=ALEX, priority="P2")
    risky = await raise_ticket(
        client, "New starter needs a laptop", priority="P4", opened=at_risk_opening(client)
    )
    hostile = await raise_ticket(
        client, 'Printer <script>alert("x")</script> jams', email=ALEX, category="device"
    )
    done = await raise_ticket(client, "Password reset done", priority="P3")
    async with database(client).session() as session, session.begin():
        pat = await staff_repo.get_by_email(session, PAT)
        assert pat is not None
        for ticket, action in ((hostile, "claim"), (done, "resolve"), (risky, "answer")):
            found = await desk(client).get(session, ticket.ref or "")
            assert found is not None
            if action == "claim":
                await desk(client).claim(session, found, Actor.of(pat), now=now)
            elif action == "resolve":
                await desk(client).set_status(session, found, Actor.of(pat), "resolved", now=now)
            else:  # answered, so only its resolution clock runs
                await desk(client).comment(session, found, Actor.of(pat), "On it", now=now)
    return {
        "breached": breached.ref or "",
        "fine": fine.ref or "",
        "risky": risky.ref or "",
        "hostile": hostile.ref or "",
        "done": done.ref or "",
    }


async def test_filters_select_the_right_tickets(client: Client) -> None:
    await add_agent(database(client))
    t = await _seed(client)
    await sign_in(client)

    shown = await rows(client)
    assert [ref for ref, _ in shown] == [t["breached"], t["fine"], t["hostile"], t["risky"]]
    states = dict(shown)
    assert states[t["breached"]] == "breached" and states[t["risky"]] == "at_risk"
    assert states[t["fine"]] == "ok"

    assert await refs(client, "?council=dacorum") == [t["breached"], t["risky"]]
    assert await refs(client, "?priority=P1") == [t["breached"]]
    assert await refs(client, "?assignee=me") == [t["hostile"]]
    assert await refs(client, "?assignee=unassigned") == [t["breached"], t["fine"], t["risky"]]
    assert await refs(client, "?sla=breached") == [t["breached"]]
    assert await refs(client, "?sla=at_risk") == [t["risky"]]
    assert await refs(client, "?q=calendar") == [t["fine"]]
    assert await refs(client, f"?q={t['fine'][-3:]}") == [t["fine"]]
    jump = await client.get(f"/desk/?q={t['fine'].lower()}", allow_redirects=False)
    assert jump.status == 303 and jump.headers["Location"] == f"/desk/tickets/{t['fine']}"
    assert await refs(client, "?q=JSD-999999") == []
    assert await refs(client, "?q=100%25") == []
    assert await refs(client, "?status=resolved") == [t["done"]]
    assert len(await refs(client, "?status=any")) == 5
    assert await refs(client, "?council=dacorum&sla=breached&priority=P1") == [t["breached"]]
    assert len(await refs(client, "?council=nowhere&priority=P9&status=gone")) == 4


async def test_sla_states_are_in_words_and_ticket_text_is_escaped(client: Client) -> None:
    await add_agent(database(client))
    t = await _seed(client)
    await sign_in(client)
    response = await client.get("/desk/")
    html = await response.text()
    breached_row = html.split(f'data-ref="{t["breached"]}"')[1].split("</tr>")[0]
    assert "Breached" in breached_row and "✖" in breached_row
    risky_row = html.split(f'data-ref="{t["risky"]}"')[1].split("</tr>")[0]
    assert "At risk" in risky_row
    assert "<script>" not in html
    assert "Printer &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; jams" in html
    timing = response.headers["Server-Timing"]
    assert re.fullmatch(
        r"auth;dur=[\d.]+, db;dur=[\d.]+, render;dur=[\d.]+, total;dur=[\d.]+", timing
    )
    assert "Content-Security-Policy" in response.headers


async def test_paging_walks_the_whole_queue(client: Client) -> None:
    await add_agent(database(client))
    async with database(client).session() as session, session.begin():
        sam = await staff_repo.get_or_create(session, email=SAM, council="dacorum")
        opened = datetime.now(UTC)
        for i in range(120):
            await desk(client).raise_ticket(
                session,
                requester=sam,
                summary=f"Laptop {i} will not charge",
                category="device",
                priority="P3",
                now=opened,  # all due at once: ties must not repeat or skip a ticket
            )
    await sign_in(client)
    first = await client.get("/desk/?assignee=unassigned")
    html = await first.text()
    assert "Tickets 1–50 of 120" in html
    assert 'href="/desk/?assignee=unassigned&amp;page=2"' in html
    seen = []
    for page in (1, 2, 3):
        seen += await refs(client, f"?assignee=unassigned&page={page}")
    assert len(seen) == 120 and len(set(seen)) == 120
    last = await (await client.get("/desk/?assignee=unassigned&page=3")).text()
    assert "Tickets 101–120 of 120" in last and 'rel="next"' not in last
    beyond = await (await client.get("/desk/?page=99")).text()
    assert "No tickets match" in beyond


async def test_the_count_stops_at_the_cap(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "COUNT_CAP", 10)
    await add_agent(database(client))
    for i in range(12):
        await raise_ticket(client, f"Monitor {i} flickers", category="device")
    await sign_in(client)
    html = await (await client.get("/desk/?page=1")).text()
    assert "Tickets 1–12 of 10+" in html


async def test_the_page_query_agrees_with_the_domain_queue(client: Client) -> None:
    agent = await add_agent(database(client))
    await _seed(client)
    now = datetime.now(UTC)
    filters = [
        QueueFilter(),
        QueueFilter(council="dacorum"),
        QueueFilter(priority="P1"),
        QueueFilter(unassigned=True),
        QueueFilter(assignee_id=agent.id),
        QueueFilter(sla="breached"),
        QueueFilter(sla="at_risk"),
        QueueFilter(text="calendar"),
        QueueFilter(statuses=("resolved", "closed")),
    ]
    async with database(client).session() as session:
        for f in filters:
            expected, total = await desk(client).queue(session, f, now=now)
            page = await listing.queue_page(session, f, now=now)
            assert [r.ref for r in page.rows] == [e.ref for e in expected], f
            assert page.total == total, f
