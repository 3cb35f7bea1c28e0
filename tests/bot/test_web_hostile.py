"""Hostile bodies at the web chat and /desk: a 4xx with a clear message, never a 5xx."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import subprocess
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given

from bot.app import create_app
from bot.channels.web.http import MAX_JSON_BYTES
from bot.flows.answer import MAX_REPLY_ARTICLE_CHARS
from bot.settings import Settings
from tests.conftest import itbot_command, say, sign_in
from tests.hostile import ANY_TEXT, EMAIL_LIKE, FAST, JSON, in_thread, runner

Client = TestClient[web.Request, web.Application]

#: the JSON endpoints of the web chat
JSON_ENDPOINTS = ("/api/chat", "/api/session", "/api/session/verify")
#: every other POST route: the chat's resend and sign-out (bodies unread), the dashboard's
#: forms and the external desk's webhooks
OTHER_POSTS = (
    "/api/session/resend",
    "/api/signout",
    "/desk/login",
    "/desk/logout",
    "/desk/tickets/ITD-1/claim",
    "/desk/approvals/1/approve",
    "/desk/notices",
    "/desk/notices/1/end",
    "/desk/spikes/1/dismiss",
    "/desk/knowledge/stub",
    "/desk/webhooks/jira",
)
DEEP = b"[" * 100_000 + b"]" * 100_000
#: nested deep inside an object: the depth cap finds it past the first key
DEEP_BUT_SMALL = b'{"text": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    crashed = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not crashed, [r.getMessage() for r in crashed]


async def test_a_lone_surrogate_in_the_chat_keeps_the_turn(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await sign_in(client)
    response = await client.post(
        "/api/chat",
        data=b'{"text": "\\ud800 printer"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200, await response.text()
    replies = (await response.json())["replies"]
    assert replies and replies[0]["text"]
    assert await say(client, "thanks")  # the conversation goes on
    no_tracebacks(caplog)


async def test_deep_huge_and_undecodable_bodies_get_a_4xx_at_every_post_route(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await sign_in(client)
    huge = b'{"text": "' + b"x" * (MAX_JSON_BYTES + 1) + b'"}'
    for path in JSON_ENDPOINTS:
        cases = ((DEEP, 400), (DEEP_BUT_SMALL, 400), (huge, 413), (b"\xff\xfe{}", 400))
        for body, status in cases:
            response = await client.post(
                path, data=body, headers={"Content-Type": "application/json"}
            )
            assert response.status == status, (path, body[:10], await response.text())
            assert "error" in await response.json()
    for path in OTHER_POSTS:
        for body in (DEEP, b"\xff\xfe=\xff", b"a=" + b"%ff" * 1000):
            for kind in ("application/json", "application/x-www-form-urlencoded"):
                response = await client.post(path, data=body, headers={"Content-Type": kind})
                assert response.status < 500, (path, kind, response.status)
    no_tracebacks(caplog)


async def test_any_json_to_the_chat_gets_an_answer_or_a_4xx(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await sign_in(client)
    run = runner(asyncio.get_running_loop())

    async def post(body: object) -> int:
        data = json.dumps(body).encode()
        response = await client.post(
            "/api/chat", data=data, headers={"Content-Type": "application/json"}
        )
        return response.status

    @FAST
    @given(body=JSON, text=ANY_TEXT | EMAIL_LIKE)
    def check(body: object, text: str) -> None:
        for shape in (body, {"text": text}, {"text": text, "press": body}):
            status = run(post(shape))
            assert status < 500, (shape, status)
            if shape == {"text": text}:
                assert status == 200, (text, status)

    await in_thread(check)
    no_tracebacks(caplog)


async def test_a_long_article_is_cut_in_the_reply_with_a_link_to_its_page(
    settings: Settings, kb_dir: Path
) -> None:
    steps = "\n\n".join(f"Step {n}: fold the quokka corner inwards." for n in range(400))
    (kb_dir / "howto" / "origami-marathon.md").parent.mkdir(exist_ok=True)
    (kb_dir / "howto" / "origami-marathon.md").write_text(
        "---\ntitle: Fold the zebra quokka origami\nowner: kb@dacorum.gov.uk\n"
        f"summary: Every fold of the zebra quokka origami.\n---\n{steps}\n",
        encoding="utf-8",
    )
    config = dataclasses.replace(settings, kb_path=kb_dir, semantic="off")
    async with TestClient(TestServer(create_app(config, watch_knowledge=False))) as client:
        await sign_in(client)
        response = await client.post(
            "/api/chat", json={"text": "how do I fold the zebra quokka origami"}
        )
        data = await response.json()
        cards = [c for r in data["replies"] for c in r["cards"]]
        assert cards and cards[0]["article_id"] == "howto/origami-marathon", data["replies"]
        html = data["html"]
        assert "Step 1:" in html and "Step 399:" not in html
        assert "read the rest of it" in html
        assert 'href="/kb/howto/origami-marathon"' in html
        shown = html.count("fold the quokka corner")
        assert (
            0
            < shown * len("Step 10: fold the quokka corner inwards.\n\n")
            <= (MAX_REPLY_ARTICLE_CHARS)
        )
        page = await (await client.get("/kb/howto/origami-marathon")).text()
        assert "Step 399:" in page  # the full page has it all


def test_invalid_utf8_on_itbot_chat_input_keeps_the_turn(settings: Settings) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ITBOT_LOG_LEVEL")}
    env = {
        **environ,
        "ITBOT_DATABASE_URL": settings.database_url,
        "ITBOT_SEMANTIC": "off",
        "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
    }
    result = subprocess.run(
        [*itbot_command(), "chat", "--as", "sam.taylor@dacorum.gov.uk"],
        input=b"my printer \xff\xfe is jammed\nhow do I set up an out of office\n",
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert "Traceback" not in result.stderr.decode()
    assert "out of office" in out.lower() or "automatic repl" in out.lower(), out
