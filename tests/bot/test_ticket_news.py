"""Ticket news reaches the person wherever they are now, once: a ticket raised in the
terminal is updated in the web chat; someone whose Slack is linked hears in a DM."""

from __future__ import annotations

import os
import subprocess
from typing import Any, cast

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.settings import Settings
from bot.web import keys
from tests.conftest import SAM, deliver_outbox, itbot_command, say, sign_in
from tests.desk.dashboard_support import add_agent, csrf_in, database
from tests.desk.dashboard_support import sign_in as agent_sign_in
from tests.slack.fake_slack import SAM_ID, SlackDriver, cached_models, fake_slack, message_im, slack

__all__ = ["cached_models", "fake_slack", "slack"]  # fixtures used below

Client = TestClient[web.Request, web.Application]


def terminal(settings: Settings, typed: str) -> str:
    """Sam types ``typed`` into ``itbot chat`` on the same database: what it printed."""
    result = subprocess.run(
        [*itbot_command(), "chat", "--as", SAM],
        input=typed,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "ITBOT_DATABASE_URL": settings.database_url,
            "ITBOT_SEMANTIC": "off",
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
        },
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def agent_replies(client: Client, ref: str, body: str) -> None:
    """An agent signs in to the dashboard and posts a public reply on ``ref``."""
    await add_agent(database(client))
    await agent_sign_in(client)
    page = await (await client.get(f"/desk/tickets/{ref}")).text()
    response = await client.post(
        f"/desk/tickets/{ref}/comment",
        data={"csrf": csrf_in(page), "body": body, "visibility": "public"},
    )
    assert response.status == 200, await response.text()
    await deliver_outbox(client.app[keys.SERVICES])


def texts(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r["text"]) for r in replies)


async def test_a_ticket_raised_in_the_terminal_is_updated_in_the_web_chat(
    client: Client, settings: Settings
) -> None:
    out = terminal(
        settings,
        "please raise a ticket for me, my second screen stays black\ndevice\nblocked\nyes\n",
    )
    assert "Done: JSD-000001" in out, out

    await agent_replies(client, "JSD-000001", "Try another cable, please")
    await sign_in(client, SAM)
    first = await say(client, "hello")
    assert "Update on JSD-000001" in texts(first) and "Try another cable" in texts(first)

    # told once: not again here, nor when the page polls, nor back in the terminal
    assert "Try another cable" not in texts(await say(client, "hello"))
    polled = await (await client.get("/api/notifications")).json()
    assert polled["replies"] == []
    assert "Try another cable" not in terminal(settings, "hi\n")


async def test_someone_with_slack_linked_hears_in_a_dm(slack: SlackDriver) -> None:
    def to_sam(call: Any) -> bool:
        return bool(call.params.get("channel") == "D" + SAM_ID[1:])

    await slack.send(message_im(SAM_ID, "hi"))  # Sam's Slack is linked to the bot
    await slack.fake.wait_for("chat.postMessage", where=to_sam)

    client = cast(Client, slack.client)
    await sign_in(client, SAM)  # ...and Sam is in the web chat now
    await say(client, "please raise a ticket for me, my second screen stays black")
    await say(client, press=("flow:raise_ticket|device", ""))
    await say(client, press=("flow:raise_ticket|blocked", ""))
    done = await say(client, "yes")
    assert "Done: JSD-000001" in texts(done), done
    posts = len(slack.fake.calls_to("chat.postMessage"))

    await agent_replies(client, "JSD-000001", "Try another cable, please")

    def told(call: Any) -> bool:
        return to_sam(call) and "Try another cable" in str(call.params.get("text"))

    [dm] = await slack.fake.wait_for("chat.postMessage", where=told)
    assert "Update on JSD-000001" in dm.params["text"]
    assert len(slack.fake.calls_to("chat.postMessage")) >= posts + 1
    assert "Try another cable" not in texts(await say(client, "hello"))  # told once


async def test_kept_news_is_never_shown_where_others_read(client: Client) -> None:
    from bot.conversation.messages import Incoming

    await sign_in(client, SAM)
    await say(client, "please raise a ticket for me, my second screen stays black")
    await say(client, press=("flow:raise_ticket|device", ""))
    await say(client, press=("flow:raise_ticket|blocked", ""))
    await say(client, "yes")
    await agent_replies(client, "JSD-000001", "Try another cable, please")

    # Sam mentions the bot in a Slack channel (no Slack DM to push to): not there...
    engine = client.app[keys.ENGINE]
    public = await engine.handle(
        Incoming(channel="slack", email=SAM, text="hello", thread="CITHELP:1.2", proven=True)
    )
    assert not any("Try another cable" in r.text for r in public)
    # ...but in the web chat, where only Sam reads
    assert "Try another cable" in texts(await say(client, "hello"))
