"""A secret typed into the chat is never kept, echoed, shown or sent on, and the person is
told to change it: a ticket raised through the web chat, read back everywhere it goes."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

import pytest
from sqlalchemy import select

from bot.storage.models import Base
from tests.conftest import SAM, say, sign_in
from tests.desk.dashboard_support import Client, add_agent, csrf_in, database
from tests.desk.dashboard_support import sign_in as agent_sign_in

PASSWORD = "Hunter2!xyz"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
AGENT_TYPED = "Zq8!temp-Pass"
SECRETS = (PASSWORD, "Hunter2", GITHUB, GITHUB[:20], AGENT_TYPED)


def _clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} is in {where}: {text[:300]!r}"


def _buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r["buttons"]]


async def _say(
    client: Client, text: str = "", press: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], await say(client, text, press=press))


async def _press(client: Client, replies: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    button = next(b for b in _buttons(replies) if label.lower() in b["label"].lower())
    return await _say(client, press=(button["action"], ""))


async def _every_row(client: Client) -> list[str]:
    """Every row of every table, as text."""
    rows: list[str] = []
    async with database(client).session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                rows.append(f"{table.name}: {json.dumps(list(row), default=str)}")
    return rows


async def test_a_typed_password_and_token_are_never_kept_and_the_person_is_told(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await sign_in(client, SAM)
    said: list[dict[str, Any]] = []

    said += await _say(client, press=("intent|raise_ticket", ""))
    typed = f"Outlook rejects me, my password is {PASSWORD} and my token {GITHUB} too"
    answered = await _say(client, typed)
    said += answered
    assert any("please change it" in r["text"] for r in answered), answered
    said += (replies := await _press(client, answered, "Email"))
    said += (replies := await _press(client, replies, "work around it"))
    confirm = " ".join(r["text"] for r in replies)
    assert "Problem: Outlook rejects me, my password is [redacted]" in confirm
    said += (done := await _say(client, "yes"))
    ref = next(w.rstrip(".:,") for r in done for w in r["text"].split() if w.startswith("JSD-"))

    # an agent reads it on the dashboard and, unwisely, types a password into a reply
    await add_agent(database(client))
    await agent_sign_in(client)
    page = await client.get(f"/desk/tickets/{ref}")
    html = await page.text()
    assert page.status == 200 and "Outlook rejects me" in html
    _clean("the dashboard's ticket page", html)
    reply = await client.post(
        f"/desk/tickets/{ref}/comment",
        data={
            "csrf": csrf_in(html),
            "body": f"Use the temporary password: {AGENT_TYPED} and change it",
            "visibility": "public",
        },
    )
    assert reply.status == 200
    after = await reply.text()
    assert "Use the temporary password: [redacted]" in after
    _clean("the dashboard after the reply", after)

    for r in said:
        _clean("a chat reply", json.dumps(r))
    rows = await _every_row(client)
    assert any(row.startswith("tickets:") and "[redacted]" in row for row in rows)
    assert any(row.startswith("desk_outbox:") for row in rows)  # payloads were looked at
    assert any(row.startswith("turns:") and "[redacted]" in row for row in rows)
    for row in rows:
        _clean("the database", row)
    for record in caplog.records:
        _clean("a log line", record.getMessage())


async def test_a_secret_in_a_submitted_form_is_hidden_and_the_person_told(client: Client) -> None:
    """A Slack modal's fields arrive as one press: redacted before the flow keeps them."""
    from bot.conversation.messages import Incoming
    from bot.flows.ticket_form import form
    from bot.web import keys

    fields = {
        "summary": "Locked out of Outlook",
        "category": "sign-in",
        "impact": "blocked",
        "details": f"my password is {PASSWORD} and my token is {GITHUB}",
    }
    replies = await client.app[keys.ENGINE].handle(
        Incoming(channel="slack", email=SAM, press=form(fields), proven=True)
    )
    assert "Done: JSD-" in replies[0].text
    assert "please change it" in replies[-1].text
    for row in await _every_row(client):
        _clean("the database", row)
