"""The web chat in real Chromium: type a question, see the answer card; sign in with the
emailed code (read from the file notifier) and see your tickets."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.desk.calendar import LONDON
from tests.conftest import SAM, last_sign_in_code, screenshot

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


def test_the_code_sign_in_works_in_chromium(
    live_server: str, browser_page: Any, notify_file: Path
) -> None:
    page = browser_page
    page.goto(live_server + "/")
    page.fill("#email", SAM)
    page.click("#who button[type=submit]")
    page.wait_for_selector("#code", state="visible")
    assert "(not verified)" in page.locator("#signed-in").inner_text()
    assert page.get_attribute("#code", "autocomplete") == "one-time-code"
    assert page.get_attribute("#code", "inputmode") == "numeric"

    # before the code: questions yes, tickets no
    page.fill("#text", "show me my tickets")
    page.click("#send")
    page.locator(".log .msg.bot", has_text="Sign in with the code").wait_for(timeout=15_000)

    page.fill("#code", "000000" if last_sign_in_code(notify_file, SAM) != "000000" else "111111")
    page.click("#verify")
    page.wait_for_selector("#code-error:not([hidden])")
    assert "4 more tries" in page.locator("#code-error").inner_text()

    page.fill("#code", last_sign_in_code(notify_file, SAM))
    page.click("#verify")
    page.wait_for_selector("#proof.verified")
    assert page.locator("#proof").inner_text() == "(verified)"
    assert page.is_hidden("#code-step")
    assert "signed in as" in page.locator(".log").inner_text().lower()

    page.fill("#text", "show me my tickets")
    page.click("#send")
    page.locator(".log .msg.bot", has_text="no open tickets").wait_for(timeout=15_000)

    page.click("#signout")
    page.wait_for_selector("#email", state="visible")
    page.reload()
    assert page.is_visible("#email") and page.is_hidden("#ask")


def _closed_today() -> dict[str, str]:
    """Settings that close the desk from today (London) for a week: out of hours whatever
    the real clock says, as ``itbot serve`` runs on it."""
    today = datetime.now(LONDON).date()
    return {"ITBOT_CLOSURE_DAYS": f"{today.isoformat()}..{(today + timedelta(days=7)).isoformat()}"}


@pytest.mark.parametrize("server_env", [_closed_today()], ids=["desk-closed"])
def test_talk_to_a_person_out_of_hours_in_chromium(
    live_server: str, browser_page: Any, notify_file: Path
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(live_server + "/")
    page.fill("#email", SAM)
    page.click("#who button[type=submit]")
    page.wait_for_selector("#code", state="visible")
    page.fill("#code", last_sign_in_code(notify_file, SAM))
    page.click("#verify")
    page.wait_for_selector("#proof.verified")

    page.fill("#text", "I need to talk to a person")
    page.click("#send")
    page.locator(".log .msg.bot", has_text="next opens").wait_for(timeout=15_000)
    said = page.locator(".log").inner_text()
    assert "The Joint ICT Service Desk is closed" in said  # a closure day, or the weekend
    assert "An agent will reply to you here." not in said
    page.locator(".log .msg.bot", has_text="What do you need help with?").wait_for()
    meanwhile = page.locator(".log .msg.bot", has_text="Meanwhile, I can do these")
    for label in ("Reset my password", "Unlock my account", "My tickets"):
        assert meanwhile.locator("button.choice", has_text=label).is_visible()
    shot = screenshot(page, "out-of-hours-handoff")
    assert shot.stat().st_size > 10_000


def test_the_requesters_reply_in_the_chat_reaches_the_ticket_page(
    live_server: str, browser_page: Any, notify_file: Path
) -> None:
    """Sam raises a ticket in the chat; Pat asks a question on the dashboard; Sam's plain
    answer in the chat lands on the ticket page."""
    import subprocess
    import sys

    serve_dir = notify_file.parent  # the live server's folder: its SQLite database is here
    added = subprocess.run(
        [sys.executable, "-m", "bot", "desk", "add-agent", "pat.lee@dacorum.gov.uk"],
        cwd=serve_dir,
        input="correct horse battery staple\ncorrect horse battery staple\n",
        capture_output=True,
        text=True,
        env={**os.environ, "ITBOT_NOTIFY": f"file:{notify_file}"},
        check=False,
    )
    assert added.returncode == 0, added.stderr

    chat = browser_page
    chat.goto(live_server + "/")
    chat.fill("#email", SAM)
    chat.click("#who button[type=submit]")
    chat.wait_for_selector("#code", state="visible")
    chat.fill("#code", last_sign_in_code(notify_file, SAM))
    chat.click("#verify")
    chat.wait_for_selector("#proof.verified")

    def send(text: str, expect: str) -> None:
        chat.fill("#text", text)
        chat.click("#send")
        chat.locator(".log .msg.bot", has_text=expect).last.wait_for(timeout=20_000)

    send("I want to raise a ticket", "what's the problem")
    send("The printer by the lift prints blank pages", "Which of these")
    send("Laptop, phone or printer", "How much is this stopping you")
    send("3", "Shall I raise it?")
    send("yes", "Done: JSD-000001")

    desk = chat.context.browser.new_context().new_page()
    desk.goto(live_server + "/desk/login")
    desk.fill("#email", "pat.lee@dacorum.gov.uk")
    desk.fill("#password", "correct horse battery staple")
    desk.click("button[type=submit]")
    desk.goto(live_server + "/desk/tickets/JSD-000001")
    desk.fill("#body", "Which printer is it? The asset tag is on a sticker at the front.")
    desk.click("#comment")
    desk.wait_for_selector(".comment.public")

    # the page polls for news; the agent's question appears in Sam's chat
    chat.locator(".log .msg.bot", has_text="asset tag").wait_for(timeout=60_000)
    send("It's AVDC-PR-0042", "I've added that to JSD-000001")

    desk.goto(live_server + "/desk/tickets/JSD-000001")
    reply = desk.locator(".comment.public", has_text="It's AVDC-PR-0042")
    reply.wait_for()
    screenshot(desk, "requester-reply-on-ticket")
    screenshot(chat, "requester-reply-in-chat")


def test_a_reload_restores_the_conversation_and_its_buttons(
    live_server: str, browser_page: Any, notify_file: Path
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(live_server + "/")
    page.fill("#email", SAM)
    page.click("#who button[type=submit]")
    page.wait_for_selector("#code", state="visible")
    page.fill("#code", last_sign_in_code(notify_file, SAM))
    page.click("#verify")
    page.wait_for_selector("#proof.verified")

    page.fill("#text", "how do I set up an out of office")
    page.click("#send")
    title = page.wait_for_selector(".card h3 a", timeout=15_000).inner_text()
    page.fill("#text", "please raise a ticket for me, my second screen stays black")
    page.click("#send")
    page.locator(".log .msg.bot", has_text="How much is this stopping you").wait_for(timeout=15_000)

    page.reload()
    page.wait_for_selector("#proof.verified")
    question = page.locator(".log .msg.bot", has_text="How much is this stopping you")
    question.wait_for(timeout=15_000)
    said = page.locator(".log").inner_text()
    assert "how do I set up an out of office" in said
    assert "please raise a ticket for me, my second screen stays black" in said
    assert page.locator(".log .card h3 a").first.inner_text() == title
    assert (
        page.locator(".log .msg.bot", has_text="Was this helpful?").locator("button").count() == 0
    )
    shot = screenshot(page, "restored-history-after-reload")
    assert shot.stat().st_size > 10_000

    question.locator("button.choice", has_text="I can't work at all").click()
    page.locator(".log .msg.bot", has_text="Shall I raise it?").wait_for(timeout=15_000)
    assert "Priority: P2" in page.locator(".log .msg.bot").last.inner_text()
