"""Who is asking in the web chat, over real HTTP: a typed address proves nothing until the
person types the code emailed to it (read here from the file notifier, as a mailbox would).

Typing an agent's or a colleague's address shows no ticket, raises none and hears no news.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.access.tables import OneTimeCode
from bot.conversation.actions import FlowCommand, encode_action
from bot.desk.actor import Actor
from bot.settings import Settings
from bot.storage.models import Base
from bot.web import keys
from tests.conftest import (
    SAM,
    deliver_outbox,
    last_sign_in_code,
    say,
    sent_messages,
    shared_app,
    sign_in,
    start_session,
)
from tests.desk.dashboard_support import PAT, add_agent, database, desk, raise_ticket

Client = TestClient[web.Request, web.Application]
COOKIE = "itbot_session"

SAM_PROBLEM = "Outlook keeps crashing when I open the shared mailbox"
PAT_PROBLEM = "The printer on floor three jams every morning"


def _texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(
        [str(r["text"]) for r in replies]
        + [b["label"] for r in replies for b in r["buttons"]]
        + [b["action"] for r in replies for b in r["buttons"]]
    )


async def _tickets(client: Client) -> tuple[str, str]:
    """An agent (Pat) with a ticket of their own, and Sam's ticket: (Pat's ref, Sam's ref)."""
    await add_agent(database(client), PAT)
    pats = await raise_ticket(client, PAT_PROBLEM, email=PAT)
    sams = await raise_ticket(client, SAM_PROBLEM, email=SAM)
    assert pats.ref and sams.ref
    return pats.ref, sams.ref


def _reveals_nothing(replies: list[dict[str, Any]], *refs: str) -> None:
    said = _texts(replies)
    for secret in (*refs, SAM_PROBLEM[:20], PAT_PROBLEM[:20], "JSD-"):
        assert secret not in said, f"{secret!r} was shown to an unproven session: {said!r}"


async def test_a_typed_agent_address_sees_no_ticket_raises_none_and_hears_no_news(
    client: Client,
) -> None:
    pat_ref, sam_ref = await _tickets(client)
    started = await start_session(client, PAT)
    assert "code" in started["message"] and started["proven"] is False

    for typed in (
        "what's the status of my ticket",
        "my tickets",
        f"what's happening with {sam_ref}",
        f"show me {pat_ref}",
    ):
        replies = cast(list[dict[str, Any]], await say(client, typed))
        _reveals_nothing(replies, pat_ref, sam_ref)
    refused = cast(list[dict[str, Any]], await say(client, press=("intent|ticket_status", "")))
    _reveals_nothing(refused, pat_ref, sam_ref)
    assert "Sign in with the code we email you" in refused[0]["text"]
    # an old rating button for someone else's ticket changes nothing and shows nothing
    csat = encode_action(FlowCommand("ticket_status", "csat", f"{sam_ref}:1"))
    _reveals_nothing(cast(list[dict[str, Any]], await say(client, press=(csat, ""))), sam_ref)

    raised = cast(list[dict[str, Any]], await say(client, "raise a ticket: my laptop is slow"))
    _reveals_nothing(raised, pat_ref, sam_ref)
    assert "Sign in with the code we email you" in raised[0]["text"]
    async with database(client).session() as session:
        pat = await _staff(session, PAT)
        assert [t.ref for t in await desk(client).for_requester(session, pat.id)] == [pat_ref]


async def _staff(session: Any, email: str) -> Any:
    from bot.storage import staff as staff_repo

    found = await staff_repo.get_by_email(session, email)
    assert found is not None
    return found


async def test_ticket_news_waits_for_a_proven_session(client: Client) -> None:
    _, sam_ref = await _tickets(client)
    services = client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        ticket = await services.desk.get(session, sam_ref)
        agent = await _staff(session, PAT)
        assert ticket is not None
        await services.desk.comment(
            session, ticket, Actor.of(agent), "Please restart Outlook", now=datetime.now(UTC)
        )
    await deliver_outbox(services)

    await start_session(client, SAM)
    polled = await (await client.get("/api/notifications")).json()
    assert polled["replies"] == [] and polled["proven"] is False
    chatted = cast(list[dict[str, Any]], await say(client, "hello"))
    _reveals_nothing(chatted, sam_ref)

    code = last_sign_in_code(_outbox(client), SAM)
    assert (await client.post("/api/session/verify", json={"code": code})).status == 200
    polled = await (await client.get("/api/notifications")).json()
    assert any("Please restart Outlook" in r["text"] for r in polled["replies"]), polled


def _outbox(client: Client) -> Path:
    return Path(client.app[keys.SETTINGS].notify.removeprefix("file:"))


async def test_the_code_sign_in_proves_the_session_and_shows_only_own_tickets(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pat_ref, sam_ref = await _tickets(client)
    response = await client.post("/api/session", json={"email": SAM})
    assert response.status == 200
    first = response.cookies[COOKIE].value
    body = await response.text()
    [sent] = [m for m in sent_messages(_outbox(client)) if m["to"] == SAM]
    assert sent["channel"] == "email" and sent["purpose"] == "sign_in_code"
    code = last_sign_in_code(_outbox(client), SAM)
    assert code in sent["text"] and "sign-in code" in sent["text"]
    assert code not in body  # never echoed

    verified = await client.post("/api/session/verify", json={"code": code})
    assert verified.status == 200, await verified.text()
    data = await verified.json()
    assert data["proven"] is True and code not in json.dumps(data)
    second = verified.cookies[COOKIE].value
    assert second != first  # a new id on proof: the typed-address session is gone
    assert await _status_with_only(client, first) == 401

    replies = cast(list[dict[str, Any]], await say(client, "my tickets"))
    said = _texts(replies)
    assert sam_ref in said and pat_ref not in said
    page = await (await client.get("/")).text()
    assert "(verified)" in page and SAM in page
    # the same code can't be used twice
    again = await client.post("/api/session/verify", json={"code": code})
    assert (await again.json())["proven"] is True  # already verified: nothing to check
    for record in caplog.records:
        assert code not in record.getMessage()


async def _status_with_only(client: Client, token: str) -> int:
    """POST /api/chat carrying only ``itbot_session=token`` (not the client's cookie jar)."""
    import aiohttp

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as raw:
        response = await raw.post(
            client.make_url("/api/chat"),
            json={"text": "hello"},
            headers={"Cookie": f"{COOKIE}={token}"},
        )
        return response.status


async def test_five_wrong_codes_end_it_and_a_new_code_works(client: Client) -> None:
    await start_session(client, SAM)
    code = last_sign_in_code(_outbox(client), SAM)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = await client.post("/api/session/verify", json={"code": wrong})
        assert response.status == 400
        data = await response.json()
        assert data["tries_left"] == left and f"{left} more" in data["error"]
    response = await client.post("/api/session/verify", json={"code": wrong})
    assert response.status == 400
    assert "five wrong codes" in (await response.json())["error"]
    # the right code no longer works either
    response = await client.post("/api/session/verify", json={"code": code})
    assert response.status == 400 and (await response.json())["new_code_needed"] is True

    resent = await client.post("/api/session/resend", json={})
    assert resent.status == 200 and (await resent.json())["code_sent"] is True
    fresh = last_sign_in_code(_outbox(client), SAM)
    response = await client.post("/api/session/verify", json={"code": fresh})
    assert response.status == 200 and (await response.json())["proven"] is True


async def test_an_expired_code_must_be_asked_for_again(client: Client) -> None:
    await start_session(client, SAM)
    code = last_sign_in_code(_outbox(client), SAM)
    async with database(client).session() as session, session.begin():
        # eleven minutes pass (codes last ten at most)
        await session.execute(
            update(OneTimeCode).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    response = await client.post("/api/session/verify", json={"code": code})
    assert response.status == 400
    data = await response.json()
    assert "expired" in data["error"] and data["new_code_needed"] is True
    chatted = await client.post("/api/chat", json={"text": "my tickets"})
    assert chatted.status == 200  # still a session that may ask questions


async def test_codes_to_one_address_are_limited_per_hour_and_the_session_still_works(
    settings: Settings,
) -> None:
    limited = dataclasses.replace(settings, code_limit=2, semantic="off")
    async with shared_app(limited) as app, TestClient(TestServer(app)) as client:
        await start_session(client, SAM)
        assert (await client.post("/api/session/resend", json={})).status == 200
        response = await client.post("/api/session/resend", json={})
        assert response.status == 429
        data = await response.json()
        assert data["code_sent"] is False and "as many codes" in data["error"]
        again = await client.post("/api/session", json={"email": SAM})
        assert again.status == 429 and (await again.json())["email"] == SAM
        assert (await client.post("/api/chat", json={"text": "hello"})).status == 200
        sent = [m for m in sent_messages(_outbox(client)) if m["to"] == SAM]
        assert len(sent) == 2


async def test_sign_out_revokes_the_session_on_the_server(client: Client) -> None:
    await start_session(client, SAM)
    code = last_sign_in_code(_outbox(client), SAM)
    verified = await client.post("/api/session/verify", json={"code": code})
    token = verified.cookies[COOKIE].value
    assert await _status_with_only(client, token) == 200
    out = await client.post("/api/signout", json={})
    assert out.status == 200
    assert "Max-Age=0" in out.headers["Set-Cookie"] or "expires" in out.headers["Set-Cookie"]
    assert await _status_with_only(client, token) == 401
    response = await client.post("/api/chat", json={"text": "hello"})
    assert response.status == 401
    assert "email address first" in (await response.json())["error"]


async def test_the_cookie_is_secure_behind_an_https_proxy_and_short_lived(client: Client) -> None:
    plain = await client.post("/api/session", json={"email": SAM})
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    assert f"Max-Age={client.app[keys.SETTINGS].web_session_hours * 3600}" in cookie
    proxied = await client.post(
        "/api/session", json={"email": SAM}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in proxied.headers["Set-Cookie"]


async def test_the_database_keeps_no_code_and_no_session_id(client: Client) -> None:
    tokens: list[str] = []
    for _ in range(2):
        response = await client.post("/api/session", json={"email": SAM})
        tokens.append(response.cookies[COOKIE].value)
    await client.post("/api/session/verify", json={"code": "999999"})  # most likely wrong
    code = last_sign_in_code(_outbox(client), SAM)
    verified = await client.post("/api/session/verify", json={"code": code})
    if verified.status == 200:
        tokens.append(verified.cookies[COOKIE].value)
    codes = {
        word.strip(".,")
        for m in sent_messages(_outbox(client))
        for word in m["text"].split()
        if word.strip(".,").isdigit() and len(word.strip(".,")) == 6
    }
    assert len(codes) >= 2 and len(tokens) >= 2
    async with database(client).session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                text = json.dumps([str(v) for v in row])
                for secret in (*codes, *tokens):
                    assert secret not in text, f"{table.name} holds a code or a session id"


async def test_with_the_sso_header_the_header_is_the_proven_identity(settings: Settings) -> None:
    sso = dataclasses.replace(settings, trusted_email_header="X-Forwarded-Email", semantic="off")
    async with shared_app(sso) as app, TestClient(TestServer(app)) as client:
        _, sam_ref = await _tickets(client)
        refused = await client.post("/api/session", json={"email": SAM})
        assert refused.status == 403
        response = await client.post(
            "/api/chat", json={"text": "my tickets"}, headers={"X-Forwarded-Email": SAM}
        )
        assert response.status == 200
        assert sam_ref in json.dumps(await response.json())
        assert sent_messages(_outbox(client)) == []  # no code step


async def test_sign_in_fixture_signs_in(client: Client) -> None:
    await sign_in(client, SAM)
    page = await (await client.get("/")).text()
    assert "(verified)" in page


async def test_once_proven_a_reset_works_and_the_password_is_shown_once_on_the_page(
    client: Client,
) -> None:
    await start_session(client, SAM)
    refused = cast(list[dict[str, Any]], await say(client, "I forgot my password"))
    assert "Sign in with the code we email you" in refused[0]["text"]

    await sign_in(client, SAM)
    asked = cast(list[dict[str, Any]], await say(client, "I forgot my password"))
    assert "code" in asked[-1]["text"], asked
    codes = [m for m in sent_messages(_outbox(client)) if m["purpose"] == "code"]
    assert codes, "no reset code was sent"
    response = await client.post("/api/chat", json={"text": codes[-1]["text"][:6]})
    data = await response.json()
    [private] = [r for r in data["replies"] if r["private"]]
    password = private["text"].split("\n\n")[1]
    assert "Shown once — not kept" in data["html"] and password in data["html"]
    async with database(client).session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                assert password not in json.dumps([str(v) for v in row]), table.name
