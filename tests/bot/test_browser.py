"""The web chat in real Chromium: type a question, see the answer card."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_a_question_typed_in_the_browser_gets_an_answer_card(
    live_server: str, browser_page: Any
) -> None:
    page = browser_page
    page.goto(live_server + "/")
    page.fill("#email", "sam.taylor@dacorum.gov.uk")
    page.click("#who button[type=submit]")
    page.wait_for_selector("#text", state="visible")
    page.fill("#text", "how do I set up an out of office")
    page.click("#send")
    card = page.wait_for_selector(".card h3 a", timeout=15_000)
    title = card.inner_text()
    assert "out of office" in title.lower() or "automatic repl" in title.lower()
    page.click(".card details summary")
    assert page.is_visible(".card .article-body ol, .card .article-body ul")
    with page.expect_popup() as popup:
        card.click()
    article = popup.value
    article.wait_for_load_state()
    assert article.locator("h1").inner_text() == title


def test_script_typed_into_the_chat_is_shown_as_text(live_server: str, browser_page: Any) -> None:
    page = browser_page
    page.goto(live_server + "/")
    page.fill("#email", "alex.jones@aylesburyvaledc.gov.uk")
    page.click("#who button[type=submit]")
    page.wait_for_selector("#text", state="visible")
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    page.fill("#text", hostile)
    page.click("#send")
    page.wait_for_function("document.querySelectorAll('.msg.bot').length >= 2", timeout=15_000)
    assert page.evaluate("window.__pwned") is None
    assert hostile in page.locator(".msg.me .text").last.inner_text()
    assert page.locator(".log img").count() == 0
