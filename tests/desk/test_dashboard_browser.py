"""The dashboard in real Chromium against a real ``itbot serve``: sign in, filter, claim."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.desk.service import Desk
from bot.storage import Database
from bot.storage import staff as staff_repo
from tests.desk.dashboard_support import ALEX, PASSWORD, PAT, SAM, add_agent

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _lexical_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served bot starts faster without sentence embeddings; the desk needs none."""
    monkeypatch.setenv("ITBOT_TEST_SEMANTIC", "off")


async def _seed(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        await add_agent(db, PAT, PASSWORD)
        refs = {}
        async with db.session() as session, session.begin():
            for email, council, summary, priority in (
                (SAM, "dacorum", "Outlook will not open", "P2"),
                (ALEX, "aylesbury-vale", "Teams camera not working", "P3"),
                (ALEX, "aylesbury-vale", "<b>Bold</b> request for a monitor", "P4"),
            ):
                person = await staff_repo.get_or_create(session, email=email, council=council)
                ticket = await Desk().raise_ticket(
                    session,
                    requester=person,
                    summary=summary,
                    category="device",
                    priority=priority,
                    now=datetime.now(UTC),
                )
                refs[summary] = ticket.ref or ""
        return refs
    finally:
        await db.dispose()


def test_an_agent_signs_in_filters_and_claims_a_ticket(
    live_server: str, browser_page: Any, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        refs = pool.submit(asyncio.run, _seed(url)).result()
    teams = refs["Teams camera not working"]
    page = browser_page
    page.goto(live_server + "/desk/")
    page.wait_for_selector("#login")
    page.fill("#email", PAT)
    page.fill("#password", "not it")
    page.click("#login button[type=submit]")
    assert "do not match" in page.inner_text("#login-error")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#queue")
    assert page.locator("#queue tbody tr").count() == 3
    assert page.locator("#queue b").count() == 0, "ticket text is shown as text"

    page.select_option("#f-council", "aylesbury-vale")
    page.select_option("#f-priority", "P3")
    page.click("#apply-filters")
    page.wait_for_url("**/desk/?*council=aylesbury-vale*")
    rows = page.locator("#queue tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-ref") == teams

    page.click(f"#queue a:text('{teams}')")
    page.wait_for_selector("#claim")
    assert page.inner_text("#status") == "New"
    assert page.inner_text("#assignee") == "Unassigned"
    page.click("#claim")
    page.wait_for_selector("#done")
    assert page.inner_text("#status") == "Open"
    assert PAT in page.inner_text("#assignee")
    assert page.locator("#claim").count() == 0

    page.select_option("#set-status", "resolved")
    page.click("#status-button")
    page.wait_for_selector("#done")
    assert page.inner_text("#status") == "Resolved"
    assert page.locator("#events tr[data-kind=status]").count() == 1

    page.click("#sign-out")
    page.wait_for_selector("#login")
    page.goto(live_server + "/desk/")
    assert page.locator("#login").count() == 1
