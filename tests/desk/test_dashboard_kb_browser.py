"""The knowledge page in real Chromium against a real ``itbot serve``: the clusters, the
"Write a stub" button, and the articles' figures."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.storage import Database
from tests.bot.test_kb_gaps import ARTICLES, converse
from tests.conftest import itbot, screenshot
from tests.desk.dashboard_support import PASSWORD, PAT, add_agent
from tests.knowledge.articles import write_articles

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _lexical_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served bot starts faster without sentence embeddings."""
    monkeypatch.setenv("ITBOT_TEST_SEMANTIC", "off")


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_articles(tmp_path / "kb", ARTICLES)


@pytest.fixture
def server_env(kb: Path) -> dict[str, str]:
    return {"ITBOT_KB_PATH": str(kb)}


async def _seed(url: str, kb: Path, cache: Path) -> None:
    settings = Settings.from_environ(
        {
            "ITBOT_DATABASE_URL": url,
            "ITBOT_CACHE_DIR": str(cache),
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
            "ITBOT_SEMANTIC": "off",
            "ITBOT_KB_PATH": str(kb),
        }
    )
    await converse(settings)
    db = Database(url)
    try:
        await add_agent(db, PAT, PASSWORD)
    finally:
        await db.dispose()


def test_an_editor_writes_a_stub_from_the_knowledge_page(
    live_server: str,
    browser_page: Any,
    tmp_path: Path,
    kb: Path,
    embedding_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, _seed(url, kb, embedding_cache)).result()

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + "/desk/knowledge")
    page.wait_for_selector("#login")
    page.fill("#email", PAT)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#gaps")

    first = page.locator("#gaps tbody tr").first
    cluster = (first.get_attribute("id") or "").removeprefix("cluster-")
    assert cluster.startswith("use-microfiche-reader-archive-")
    assert "microfiche" in first.inner_text()
    assert page.locator("#gaps .stub-button").count() == page.locator("#gaps tbody tr").count()
    out_of_office = page.locator('#usage tr[data-article="email/out-of-office"] td')
    assert [out_of_office.nth(i).inner_text() for i in range(1, 4)] == ["2", "2", "0"]
    assert "Book a meeting room" in page.inner_text("#never-used")
    screenshot(page, "knowledge-page-with-stub-buttons")

    first.locator(".stub-button").click()
    page.wait_for_selector("#done")
    assert f"Wrote drafts/{cluster}.md" in page.inner_text("#done")
    written = kb / "drafts" / f"{cluster}.md"
    assert "owner: pat.lee@dacorum.gov.uk" in written.read_text(encoding="utf-8")
    screenshot(page, "knowledge-page-stub-written")
    # the draft is listed, not served, and not counted as never used
    draft = page.locator(f'#usage tr[data-article="drafts/{cluster}"]')
    assert "not served" in draft.inner_text()
    assert "Microfiche" not in page.inner_text("#never-used")

    # the same button again: a clear message, the file as it was
    before = written.read_text(encoding="utf-8")
    page.locator(f"#cluster-{cluster} .stub-button").click()
    page.wait_for_selector("#action-error")
    assert "already exists" in page.inner_text("#action-error")
    assert written.read_text(encoding="utf-8") == before

    code, out = itbot(capsys, "kb", "check", "--kb", str(kb))
    assert code == 0, out
