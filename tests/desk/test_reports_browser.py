"""``/desk/reports`` in real Chromium against a real ``itbot serve``: the charts render,
the filters change the figures, the CSV downloads, and every figure on the page is the
one ``itbot report --format json`` gives. Time an agent logs on a reply is counted."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.desk import activity
from bot.desk.calendar import LONDON
from bot.desk.service import Desk
from bot.insight import formats
from bot.storage import Database
from bot.storage import staff as staff_repo
from tests.conftest import itbot_command, screenshot
from tests.desk.dashboard_support import ALEX, PASSWORD, PAT, SAM, add_agent

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _lexical_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served bot starts faster without sentence embeddings; reports need none."""
    monkeypatch.setenv("ITBOT_TEST_SEMANTIC", "off")


async def _seed(url: str, now: datetime, last_month: datetime) -> str:
    """Two Aylesbury Vale tickets and one Dacorum ticket this month, one Dacorum ticket
    last month, and two answers for Dacorum (one said Yes)."""
    db = Database(url)
    desk = Desk()
    try:
        await add_agent(db, PAT, PASSWORD)
        async with db.session() as session, session.begin():
            sam = await staff_repo.get_or_create(session, email=SAM, council="dacorum")
            alex = await staff_repo.get_or_create(session, email=ALEX, council="aylesbury-vale")
            first = ""
            for person, category, at in (
                (alex, "email", now),
                (alex, "device", now),
                (sam, "documents", now),
                (sam, "calendar", last_month),
            ):
                ticket = await desk.raise_ticket(
                    session,
                    requester=person,
                    summary=f"{category} <b>trouble</b>",
                    category=category,
                    priority="P3",
                    now=at,
                )
                first = first or (ticket.ref or "")
            for conversation, rating in ((1, "yes"), (2, None)):
                await activity.record(
                    session,
                    kind="answer",
                    at=now,
                    council="dacorum",
                    channel="web",
                    conversation_id=conversation,
                    staff_id=sam.id,
                    article_id="calendar/share-your-calendar",
                    category="calendar",
                    rating=rating,
                    deflect_until=now + timedelta(days=3),
                )
        return first
    finally:
        await db.dispose()


def _page_figures(page: Any) -> dict[tuple[str, str], str]:
    cells = page.locator("#figures td.figure")
    return {
        (
            cells.nth(i).get_attribute("data-council"),
            cells.nth(i).get_attribute("data-figure"),
        ): (cells.nth(i).text_content() or "").strip()
        for i in range(cells.count())
    }


def _cli_figures(folder: Path, *args: str) -> dict[tuple[str, str], str]:
    result = subprocess.run(
        [*itbot_command(), "report", "--format", "json", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
        check=False,
        env={**os.environ, "ITBOT_SEMANTIC": "off"},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return {(c, f): "" if v is None else str(v) for c, f, v in formats.rows(report)}


def test_reports_page_charts_filters_and_csv(
    live_server: str, browser_page: Any, tmp_path: Path
) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    month_start = now.astimezone(LONDON).date().replace(day=1)
    last_month = datetime.combine(
        month_start - timedelta(days=10), datetime.min.time(), tzinfo=LONDON
    ) + timedelta(hours=10)
    url = f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        ref = pool.submit(asyncio.run, _seed(url, now, last_month)).result()

    page = browser_page
    page.goto(live_server + "/desk/login")
    page.fill("#email", PAT)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#queue")

    # an agent logs 25 minutes on a reply: the report counts them for that council
    page.goto(f"{live_server}/desk/tickets/{ref}")
    page.fill("#body", "Looking at it now")
    page.fill("#comment-minutes", "25")
    page.click("#comment")
    page.wait_for_selector("#done")
    assert "Time spent" in page.inner_text("#events")

    page.click("a[href='/desk/reports']")
    page.wait_for_selector("#summary")
    charts = page.locator(".charts figure svg")
    assert charts.count() == 4
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 30
    assert page.locator("#chart-deflection rect.bar").count() == 2  # confirmed, potential
    assert page.locator("#chart-categories rect.bar").count() == 3
    assert page.locator("#chart-cost text.total").first.text_content() == "100%"
    screenshot(page, "reports-this-month")
    page.click("#every-figure summary")  # the long table, folded until asked for

    shown = _page_figures(page)
    assert shown == _cli_figures(tmp_path)  # every figure on the page is the JSON's
    assert shown["aylesbury-vale", "tickets_raised"] == "2"
    assert shown["dacorum", "tickets_raised"] == "1"
    assert shown["all", "tickets_raised"] == "3"
    assert shown["aylesbury-vale", "agent_minutes"] == "25"
    assert shown["dacorum", "deflection.confirmed"] == "1"
    assert shown["dacorum", "deflection.potential"] == "1"
    assert shown["aylesbury-vale", "cost_share.tickets"] == "66.7"

    # the council filter
    page.select_option("#f-council", "dacorum")
    page.click("#apply-filters")
    page.wait_for_url("**/desk/reports?*council=dacorum*")
    shown = _page_figures(page)
    assert {c for c, _ in shown} == {"dacorum", "all"}
    assert shown["all", "tickets_raised"] == "1"
    assert shown["all", "questions_answered"] == "2"
    screenshot(page, "reports-dacorum")

    # the period filter: last month only has Dacorum's calendar ticket
    first = (month_start - timedelta(days=10)).replace(day=1).isoformat()
    last = (month_start - timedelta(days=1)).isoformat()
    page.goto(f"{live_server}/desk/reports?from={first}&to={last}")
    page.wait_for_selector("#summary")
    shown = _page_figures(page)
    assert shown["all", "tickets_raised"] == "1"
    assert shown["dacorum", "tickets_by_category.calendar"] == "1"
    assert shown["all", "questions_answered"] == "0"
    assert shown == _cli_figures(tmp_path, "--from", first, "--to", last)
    screenshot(page, "reports-last-month")

    # the CSV download holds the same figures as the page
    with page.expect_download() as download_info:
        page.click("#download-csv")
    download = download_info.value
    assert download.suggested_filename == f"itbot-report-{first}-{last}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert rows[0] == ["council", "figure", "value"]
    assert {(c, f): v for c, f, v in rows[1:]} == shown

    # a nonsense filter is set aside with a note, never an error
    page.goto(f"{live_server}/desk/reports?from=yesterday&council=%3Cscript%3E")
    assert len(page.locator("p.flash.error").all()) == 2
    assert page.locator("#summary").count() == 1
