"""An outage in real Chromium against a real ``itbot serve``: the agent sees the alert on
the dashboard and publishes the notice with one click; Sam, asking in the web chat, is
told about it first and adds themselves."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_desk
from bot.settings import Settings
from bot.storage import Database
from bot.storage import staff as staff_repo
from tests.conftest import SAM, last_sign_in_code, screenshot
from tests.desk.dashboard_support import PASSWORD, PAT, add_agent

pytestmark = pytest.mark.browser

REPORTERS = (
    "chris.wood@dacorum.gov.uk",
    "jo.patel@dacorum.gov.uk",
    "kim.green@dacorum.gov.uk",
    "ash.khan@dacorum.gov.uk",
    "rowan.bell@dacorum.gov.uk",
)


@pytest.fixture(autouse=True)
def _lexical_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served bot starts faster without sentence embeddings."""
    monkeypatch.setenv("ITBOT_TEST_SEMANTIC", "off")


async def _seed(url: str) -> None:
    """An agent, and five Dacorum people reporting Outlook down in ten minutes."""
    db = Database(url)
    try:
        await add_agent(db, PAT, PASSWORD)
        now = datetime.now(UTC)
        desk = build_desk(Settings.from_environ({}))  # wired as the server: checked for outages
        async with db.session() as session, session.begin():
            for n, email in enumerate(REPORTERS):
                person = await staff_repo.get_or_create(session, email=email, council="dacorum")
                await desk.raise_ticket(
                    session, requester=person, summary="Outlook won't open", category="email",
                    priority="P3", now=now - timedelta(minutes=10 - 2 * n),
                )  # fmt: skip
    finally:
        await db.dispose()


def test_a_notice_published_on_the_dashboard_is_told_in_the_web_chat(
    live_server: str, browser_page: Any, tmp_path: Path, notify_file: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, _seed(url)).result()
    page = browser_page
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live_server + "/desk/")
    page.wait_for_selector("#login")
    page.fill("#email", PAT)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#queue")
    banner = page.locator("p.flash[id^=outage-]")
    # the server's outbox worker finds the spike a moment after the tickets are raised
    for _ in range(60):
        if banner.count():
            break
        page.wait_for_timeout(500)
        page.reload()
        page.wait_for_selector("#queue")
    assert "Possible outage: Outlook" in banner.inner_text()
    banner.locator("a").click()
    page.wait_for_selector(".outage-alert")
    alert = page.locator(".outage-alert")
    assert "5 people" in alert.locator("h3").inner_text()
    assert alert.locator("ul.reports li").count() == 5
    text = alert.locator("textarea[name=text]").input_value()
    assert text.startswith("There's a known problem with Outlook since ")
    assert alert.locator("input[name=council][value=dacorum]").is_checked()
    assert not alert.locator("input[name=council][value=aylesbury-vale]").is_checked()
    screenshot(page, "outage-alert-dashboard")
    alert.locator("button[id^=publish-]").click()
    page.wait_for_selector("#done")
    assert page.locator(".outage-alert").count() == 0
    row = page.locator("#notices tbody tr")
    assert row.count() == 1 and "known problem with Outlook" in row.inner_text()
    assert "4 people" in row.inner_text()  # the other reports, linked to the first

    page.goto(live_server + "/")
    page.fill("#email", SAM)
    page.click("#who button[type=submit]")
    page.wait_for_selector("#code", state="visible")
    page.fill("#code", last_sign_in_code(notify_file, SAM))
    page.click("#verify")
    page.wait_for_selector("#proof.verified")
    page.fill("#text", "Outlook won't load my email")
    page.click("#send")
    told = page.locator(".log .msg.bot", has_text="There's a known problem with Outlook")
    told.wait_for(timeout=15_000)
    shot = screenshot(page, "outage-notice-in-chat")
    assert shot.stat().st_size > 10_000
    told.locator("button.choice", has_text="Add me to it").click()
    page.locator(".log .msg.bot", has_text="you're added").wait_for(timeout=15_000)
    screenshot(page, "outage-notice-added")
