"""The report page and the time-spent field over real HTTP (SQLite and PostgreSQL):
agents only, hostile filters and minutes never a 5xx, logged minutes counted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from tests.desk.dashboard_support import (
    SAM,
    Client,
    add_agent,
    database,
    quick_settings,
    raise_ticket,
    requester,
    sign_in,
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick_settings(database_url, tmp_path)


async def test_reports_need_an_agent(client: Client) -> None:
    await requester(database(client), SAM)
    for path in ("/desk/reports", "/desk/reports.csv"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/desk/login")


async def test_hostile_filters_are_set_aside(client: Client) -> None:
    await add_agent(database(client))
    await sign_in(client)
    for query in (
        "?from=2026-02-30&to=2026-03-01",
        "?from=2026-06-02&to=2026-06-01",
        "?council=%3Cscript%3Ealert(1)%3C/script%3E",
        "?from=" + "9" * 5000,
        "?to=%00",
    ):
        page = await client.get("/desk/reports" + query)
        assert page.status == 200, query
        html = await page.text()
        assert "<script>alert(1)" not in html
        assert 'class="flash error"' in html, query
        csv = await client.get("/desk/reports.csv" + query)
        assert csv.status == 200
        assert csv.headers["Content-Type"].startswith("text/csv")
        assert (await csv.text()).startswith("council,figure,value\n")


async def test_time_spent_on_a_reply_is_counted_and_checked(client: Client) -> None:
    await add_agent(database(client))
    token = await sign_in(client)
    ticket = await raise_ticket(client, "Outlook will not open", email=SAM)
    url = f"/desk/tickets/{ticket.ref}/comment"
    for bad in ("abc", "0", "-5", "721", "1e3", "9" * 400):
        response = await client.post(
            url, data={"body": "Looking", "visibility": "public", "minutes": bad, "csrf": token}
        )
        assert response.status == 409, bad
        assert "Time spent should be whole minutes from 1 to 720." in await response.text()
    response = await client.post(
        url,
        data={"body": "Looking", "visibility": "public", "minutes": "25", "csrf": token},
        allow_redirects=False,
    )
    assert response.status == 303
    response = await client.post(
        f"/desk/tickets/{ticket.ref}/status",
        data={"status": "resolved", "minutes": "", "csrf": token},  # no time given: none logged
        allow_redirects=False,
    )
    assert response.status == 303
    page = await (await client.get(f"/desk/tickets/{ticket.ref}")).text()
    assert "Time spent" in page and "25 minutes" in page
    csv = await (await client.get("/desk/reports.csv")).text()
    assert "dacorum,agent_minutes,25\n" in csv
    assert "dacorum,tickets_raised,1\n" in csv
    assert "all,agent_minutes,25\n" in csv
