"""Cleaning input, reading yes/no, redacting secrets; HTML stays safe."""

from __future__ import annotations

import doctest

import pytest

import bot.conversation.text
from bot.conversation.actions import FlowCommand
from bot.conversation.messages import MAX_TEXT, Button
from bot.conversation.text import adds_to_guide, choice_number, clean, yes_no
from bot.redaction import redact
from bot.render import markdown_to_html, mrkdwn_escape
from bot.web.session import CookieSigner


def test_clean_removes_control_characters_and_cuts_long_text() -> None:
    assert clean("  hello\x00\x07 there\u200b ") == ("hello there", False)
    text, cut = clean("a" * 100_000)
    assert cut and len(text) == MAX_TEXT


@pytest.mark.parametrize(
    ("said", "meaning"),
    [
        ("yes", True),
        ("Yes please!", True),
        ("ok", True),
        ("no", False),
        ("nope.", False),
        ("not now", False),
        ("maybe later", None),
        ("", None),
        ("no thanks", False),
        ("no wait, it's the docking station", None),  # taken back in the same breath
        ("yes but the other screen too", None),
    ],
)
def test_yes_no(said: str, meaning: bool | None) -> None:
    assert yes_no(said) is meaning


def test_the_examples_in_the_docstrings_hold() -> None:
    assert doctest.testmod(bot.conversation.text).failed == 0


RATED = (
    Button("Yes", FlowCommand("answer", "feedback", "yes:documents/onedrive-wont-open")),
    Button("No", FlowCommand("answer", "feedback", "no:documents/onedrive-wont-open:it hangs")),
)


@pytest.mark.parametrize(
    ("said", "adds"),
    [
        ("it's a Dell", True),
        ("on my ipad", True),
        ("only in the browser", True),
        ("since the update on Monday", True),
        ("it's still not working", False),  # a verdict: the No button
        ("it won't even start now", False),  # a new symptom, read on its own
        ("on my phone, how do I fix it?", False),
        ("teams doesn't work on my phone", False),
        ("with my colleague's laptop too, and the printer and the scanner and the rest", False),
    ],
)
def test_a_short_detail_after_a_guide_adds_to_its_question(said: str, adds: bool) -> None:
    detail = adds_to_guide(said, RATED)
    if adds:
        assert detail == FlowCommand(
            "answer", "detail", f"documents/onedrive-wont-open:it hangs, {said}"
        )
    else:
        assert detail is None
    assert adds_to_guide(said, RATED[:1]) is None  # a button without the question


def test_redact_hides_typed_secrets() -> None:
    assert redact("my password is Hunter2!") == "my password is [redacted]"
    assert redact("the code: 123456 didn't work") == "the code: [redacted] didn't work"
    assert redact("how do I share my calendar") == "how do I share my calendar"


def test_choice_number() -> None:
    assert choice_number("2", 3) == 1
    assert choice_number("4", 3) is None
    assert choice_number("2 please", 3) is None


def test_markdown_is_sanitised() -> None:
    html = markdown_to_html(
        "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
        "[ok](https://example.org) <img src=x onerror=alert(1)>"
    )
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="https://example.org"' in html


def test_relative_links_are_resolved() -> None:
    html = markdown_to_html("[cal](../calendar/share.md)", lambda href: "/kb/calendar/share")
    assert 'href="/kb/calendar/share"' in html


def test_rendered_articles_follow_where_links_lead_now() -> None:
    """The HTML is cached; a link that now leads elsewhere (or nowhere) still shows so."""
    body = "See [sharing](../calendar/share.md) and [rooms](rooms.md) and [web](https://x.org)."
    first = markdown_to_html(body, {"../calendar/share.md": "/kb/calendar/share"}.get)
    assert 'href="/kb/calendar/share"' in first and 'href="rooms.md"' in first
    moved = markdown_to_html(
        body, {"../calendar/share.md": "/kb/calendar/sharing", "rooms.md": "/kb/x/rooms"}.get
    )
    assert 'href="/kb/calendar/sharing"' in moved and 'href="/kb/x/rooms"' in moved
    nowhere: dict[str, str] = {}
    assert markdown_to_html(body, nowhere.get).count('href="') == 3
    assert 'href="/kb/' not in markdown_to_html(body, nowhere.get)
    assert 'href="/kb/calendar/share"' in markdown_to_html(
        body, {"../calendar/share.md": "/kb/calendar/share"}.get
    )
    edited = markdown_to_html(body.replace("rooms", "desks"), {"desks.md": "/kb/x/desks"}.get)
    assert 'href="/kb/x/desks"' in edited and "rooms" not in edited


def test_mrkdwn_escape() -> None:
    assert mrkdwn_escape("<@U123> & <!channel>") == "&lt;@U123&gt; &amp; &lt;!channel&gt;"


def test_signed_cookie_refuses_tampering_and_age() -> None:
    signer = CookieSigner(b"k" * 32, max_age=60)
    cookie = signer.sign("sam.taylor@dacorum.gov.uk", now=1000)
    assert signer.verify(cookie, now=1010) == "sam.taylor@dacorum.gov.uk"
    assert signer.verify(cookie, now=1100) is None
    _, issued, mac = cookie.split(".")
    forged = CookieSigner(b"k" * 32).sign("boss@dacorum.gov.uk", now=1000).split(".")[0]
    assert signer.verify(f"{forged}.{issued}.{mac}", now=1010) is None
    assert signer.verify("garbage", now=1010) is None
