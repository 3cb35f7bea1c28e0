"""A reloaded web chat page gets its conversation back: ``GET /api/history`` over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.desk.service import Actor
from bot.web import keys
from tests.conftest import ALEX, SAM, deliver_outbox, say, sign_in, start_session
from tests.desk.dashboard_support import PAT, add_agent, database, desk

Client = TestClient[web.Request, web.Application]


async def history(client: Client) -> list[dict[str, Any]]:
    response = await client.get("/api/history")
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    messages: list[dict[str, Any]] = (await response.json())["messages"]
    return messages


async def test_a_reload_gets_the_history_and_the_pending_buttons(client: Client) -> None:
    await sign_in(client, SAM)
    answered = await say(client, "how do I set up an out of office")
    [card] = [c for r in answered for c in r["cards"]]  # type: ignore[attr-defined]
    asked = await say(client, "please raise a ticket for me, my second screen stays black")
    assert "How much is this stopping you" in asked[-1]["text"]  # type: ignore[operator]

    messages = await history(client)
    mine = [m["text"] for m in messages if m["mine"]]
    assert mine == [
        "how do I set up an out of office",
        "please raise a ticket for me, my second screen stays black",
    ]
    assert [c["title"] for m in messages for c in m["cards"]] == [card["title"]]
    assert messages[-1]["text"] == asked[-1]["text"]
    labels = [b["label"] for b in messages[-1]["buttons"]]
    assert labels == [b["label"] for b in asked[-1]["buttons"]]  # type: ignore[attr-defined]
    assert all(not m["buttons"] for m in messages[:-1])  # "Was this helpful?" is history now

    # the restored button still answers the question the server waits on
    blocked = next(b for b in messages[-1]["buttons"] if b["label"] == "I can't work at all")
    response = await client.post("/api/chat", json={"press": {"action": blocked["action"]}})
    assert "Priority: P2" in (await response.json())["replies"][0]["text"]

    await say(client, "cancel")
    assert not (await history(client))[-1]["buttons"]  # nothing waits: no buttons


async def test_the_rating_prompt_survives_a_reload(client: Client) -> None:
    await sign_in(client, SAM)
    await say(client, "please raise a ticket for me, my second screen stays black")
    await say(client, press=("flow:raise_ticket|device", ""))
    await say(client, press=("flow:raise_ticket|blocked", ""))
    await say(client, "yes")
    agent = await add_agent(database(client), PAT)
    async with database(client).session() as session, session.begin():
        ticket = await desk(client).get(session, "JSD-000001")
        assert ticket is not None
        await desk(client).set_status(
            session, ticket, Actor.of(agent), "resolved", now=datetime.now(UTC)
        )
    await deliver_outbox(client.app[keys.SERVICES])
    polled = await (await client.get("/api/notifications")).json()
    assert any("How did we do?" in r["text"] for r in polled["replies"])

    last = (await history(client))[-1]  # the page is reloaded
    assert "How did we do?" in last["text"]
    assert [b["label"] for b in last["buttons"]] == ["1", "2", "3", "4", "5"]


async def test_nobody_else_sees_the_history(client: Client) -> None:
    await sign_in(client, SAM)
    await say(client, "my second screen stays black, how do I fix it")

    client.session.cookie_jar.clear()
    assert (await client.get("/api/history")).status == 401  # nobody signed in

    await start_session(client, SAM)  # someone typed Sam's address, without the code
    response = await client.get("/api/history")
    assert response.status == 200
    body = await response.json()
    assert body["messages"] == [] and body["html"] == "" and body["proven"] is False

    client.session.cookie_jar.clear()
    await sign_in(client, ALEX)  # another person, proven: their own (empty) history
    assert await history(client) == []
