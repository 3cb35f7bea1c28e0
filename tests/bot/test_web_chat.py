"""The web chat over real HTTP: what the person types → what the bot answers."""

from __future__ import annotations

import dataclasses

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.settings import Settings
from tests.conftest import ALEX, SAM, say, shared_app, sign_in

Client = TestClient[web.Request, web.Application]


async def test_page_health_and_security_headers(client: Client) -> None:
    page = await client.get("/")
    assert page.status == 200
    html = await page.text()
    assert "Your council email address" in html and "/static/chat.js" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    body = await ready.json()
    assert body["database"] == "ok" and body["articles"] >= 10


async def test_out_of_office_is_answered_with_the_article_and_its_link(client: Client) -> None:
    await sign_in(client, SAM)
    replies = await say(client, "how do I set up an out of office")
    cards = [card for reply in replies for card in reply["cards"]]  # type: ignore[attr-defined]
    assert cards, replies
    assert (
        "out of office" in cards[0]["title"].lower()
        or "automatic repl" in cards[0]["title"].lower()
    )
    article = await client.get(cards[0]["url"])
    assert article.status == 200
    html = await article.text()
    assert cards[0]["title"].replace("'", "&#39;") in html
    assert "Dacorum Borough Council" in html  # rendered for the asker's council


async def test_the_article_page_is_rendered_for_the_viewers_council(client: Client) -> None:
    from knowledge import KnowledgeBase

    kb = KnowledgeBase.load(None, semantic="off")
    variant = next(a for a in kb.articles() if "::: council" in a.body and not a.councils)
    await sign_in(client, ALEX)
    html = await (await client.get(f"/kb/{variant.id}")).text()
    assert "Aylesbury Vale District Council" in html
    assert "::: council" not in html


async def test_unknown_people_are_turned_away_clearly(client: Client) -> None:
    response = await client.post("/api/session", json={"email": "someone@example.com"})
    assert response.status == 400
    assert (await response.json())["error"] == (
        "Sorry, I can only help staff of Aylesbury Vale District Council and Dacorum Borough "
        "Council. Please use your @aylesburyvaledc.gov.uk or @dacorum.gov.uk address."
    )
    response = await client.post("/api/chat", json={"text": "hello"})
    assert response.status == 401


async def test_a_single_sign_on_address_outside_the_councils_is_told_which_to_use(
    settings: Settings,
) -> None:
    sso = dataclasses.replace(settings, trusted_email_header="X-Forwarded-Email", semantic="off")
    async with shared_app(sso) as app, TestClient(TestServer(app)) as client:
        response = await client.post(
            "/api/chat",
            json={"text": "how do i share my calendar"},
            headers={"X-Forwarded-Email": "pat@contractor.example"},
        )
        assert response.status == 200
        [reply] = (await response.json())["replies"]
        assert reply["kind"] == "error" and not reply["cards"]
        assert "only help staff of" in reply["text"]
        assert "use your @aylesburyvaledc.gov.uk or @dacorum.gov.uk address" in reply["text"]


async def test_hostile_and_odd_input_never_breaks_the_chat(client: Client) -> None:
    await sign_in(client, SAM)
    empty = await say(client, "   ")
    assert "didn't catch anything" in empty[0]["text"]  # type: ignore[operator]

    long = await say(client, "outlook " * 12_500)  # 100 kB
    assert "long message" in long[0]["text"]  # type: ignore[operator]

    control = await say(client, "how do I share my calendar\x00\x1b[31m\x07")
    assert control

    response = await client.post("/api/chat", json={"text": "<script>alert('x')</script> help"})
    assert response.status == 200
    html = (await response.json())["html"]
    assert "<script" not in html

    for bad in (b"{not json", b"[1, 2]"):
        response = await client.post(
            "/api/chat", data=bad, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400
    response = await client.post("/api/chat", json={"text": 42})
    assert response.status == 400
    response = await client.post("/api/chat", json={"press": "x"})
    assert response.status == 400
    response = await client.post("/api/chat", json={"press": {"action": "nonsense", "value": "x"}})
    assert response.status == 200
    for garbled in ("flow:|x", "switch|maybe", "form:raise_ticket:form|{not json", ""):
        response = await client.post("/api/chat", json={"press": {"action": garbled}})
        assert response.status == 200
        [reply] = (await response.json())["replies"]
        assert "That button belongs to an earlier conversation" in reply["text"]


async def test_cross_site_posts_are_refused(client: Client) -> None:
    response = await client.post(
        "/api/session", json={"email": SAM}, headers={"Origin": "https://evil.example"}
    )
    assert response.status == 403


async def test_missing_article_is_a_friendly_404(client: Client) -> None:
    response = await client.get("/kb/no/such/article")
    assert response.status == 404
    assert "Guide not found" in await response.text()


async def test_an_edited_article_is_live_within_a_second(settings, kb_dir) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import dataclasses
    import time

    live = dataclasses.replace(settings, kb_path=kb_dir)
    article = kb_dir / "email" / "out-of-office.md"
    async with TestClient(TestServer(create_app(live))) as client:
        before = await (await client.get("/kb/email/out-of-office")).text()
        assert "Away on an adventure" not in before
        text = article.read_text(encoding="utf-8")
        article.write_text(
            text.replace("title: ", "title: Away on an adventure, ", 1), encoding="utf-8"
        )
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            page = await (await client.get("/kb/email/out-of-office")).text()
            if "Away on an adventure" in page:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the edit was not live within a second")
        article.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")  # broken YAML
        await asyncio.sleep(0.6)
        page = await (await client.get("/kb/email/out-of-office")).text()
        assert "Away on an adventure" in page  # the last good version keeps serving
