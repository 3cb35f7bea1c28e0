"""The Slack adapter's parts: rendering, jobs, privacy, identity cache, inbox, manifest."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from typing import Any, cast

import aiohttp
import pytest
import yaml

from bot.channels.slack import jobs
from bot.channels.slack.client import is_slack_url, web_client
from bot.channels.slack.codeform import CodeForms
from bot.channels.slack.identity import IdentityResolver, SlackPerson
from bot.channels.slack.inbox import Inbox
from bot.channels.slack.listeners.commands import COMMAND
from bot.channels.slack.manifest import ManifestError, manifest
from bot.channels.slack.mrkdwn import chunks, to_mrkdwn
from bot.channels.slack.process import Processor
from bot.channels.slack.render import SlackRenderer
from bot.conversation.actions import Ask, SubmitForm, encode_action
from bot.conversation.messages import ArticleCard, Button, Incoming, Reply
from bot.render import build_environment
from bot.settings import Settings
from bot.storage import Database
from bot.storage.models import utcnow
from tests.slack.fake_slack import SAM_ID, FakeSlack, fake_slack, message_im, slack_settings

__all__ = ["fake_slack"]  # fixtures used below

RENDERER = SlackRenderer(build_environment(), Settings())


# -- rendering ------------------------------------------------------------------------------


def test_text_from_people_cannot_ping_a_channel_or_inject_links() -> None:
    message = RENDERER.message(
        [Reply("You said: <!channel> <@U123> <https://evil.example|click> & more")], thread="dm"
    )
    text = message["blocks"][0]["text"]["text"]
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in text and "&amp; more" in text
    assert "<" not in message["text"]


def test_article_cards_fit_slacks_limits() -> None:
    body = "\n\n".join(f"## Step {n}\n" + ("Click **Settings** & wait. " * 40) for n in range(40))
    card = ArticleCard("email/long", "A" * 300, "Summary <b>", body)
    buttons = tuple(Button("B" * 100, Ask("x" * 5000)) for _ in range(3))
    message = RENDERER.message([Reply("Here", cards=(card,), buttons=buttons)], thread="dm")
    blocks = message["blocks"]
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000
    assert "The full guide has more" in json.dumps(blocks)
    assert "Summary &lt;b&gt;" in json.dumps(blocks)


def test_markdown_becomes_mrkdwn() -> None:
    text = to_mrkdwn(
        "# Share a calendar\n\n1. Open **Outlook**\n- Pick [Share](https://x.example/a?b=1&c=2)"
        "\n\nSee [the guide](../email/other.md) and `<code>`",
        resolve=lambda href: "https://itbot.example/kb/email/other" if "other" in href else None,
    )
    assert text.splitlines()[0] == "*Share a calendar*"
    assert "1. Open *Outlook*" in text
    assert "• Pick <https://x.example/a?b=1&amp;c=2|Share>" in text
    assert "<https://itbot.example/kb/email/other|the guide>" in text
    assert "`&lt;code&gt;`" in text
    assert all(len(piece) <= 100 for piece in chunks(text * 5, limit=100))


# -- jobs -----------------------------------------------------------------------------------


def test_slack_markup_is_turned_back_into_what_was_typed() -> None:
    event = message_im(SAM_ID, "<@UBOT> my <mailto:a@b.c|a@b.c> &lt;3")["event"]
    job = jobs.from_message(event, "UBOT")
    assert job is not None
    assert job.text == "my a@b.c <3"
    assert jobs.from_message({**event, "channel_type": "channel"}) is None
    assert jobs.from_message({**event, "bot_id": "B1"}) is None


def test_button_values_carry_the_conversation_and_fit() -> None:
    value = jobs.encode_value(Ask("é" * 3000), "CGENERAL:1700000000.000100")
    assert len(value) <= 2000
    decoded = jobs.decode_value(value)
    assert decoded is not None
    assert isinstance(decoded[0], Ask) and decoded[1] == "CGENERAL:1700000000.000100"
    assert jobs.decode_value("not json") is None


# -- privacy: a temporary password only ever in the code form's modal ----------------------


class _Engine:
    async def handle(self, incoming: Incoming) -> list[Reply]:
        return [
            Reply("I've reset it."),
            Reply("Your temporary password is Blue-Kettle-42", private=True),
        ]


class _Identity:
    async def resolve(self, user_id: str) -> SlackPerson:
        settings = Settings()
        council = settings.council("dacorum")
        return SlackPerson(user_id, "sam.taylor@dacorum.gov.uk", "Sam Taylor", council)


def _processor() -> Processor:
    return Processor(
        settings=Settings(),
        db=cast(Any, None),
        inbox=cast(Any, None),
        engine=_Engine(),
        identity=cast(Any, _Identity()),
        renderer=RENDERER,
        deliverer=cast(Any, None),
        knowledge=lambda: None,
        code_forms=CodeForms(cast(Any, None), RENDERER),
    )


async def test_private_replies_are_never_posted_anywhere() -> None:
    """Not in a channel, not through a response_url, not even in a DM (it keeps history)."""
    jobs_without_a_form = [
        jobs.Job(
            kind="mention", user=SAM_ID, thread="CGEN:1.1", reply_to="channel", channel="CGEN",
            thread_ts="1.1", text="reset my password",
        ),
        jobs.Job(
            kind="command", user=SAM_ID, thread="command:CGEN", reply_to="response_url",
            channel="CGEN", response_url="https://hooks.slack.com/x", text="reset my password",
        ),
        jobs.Job(
            kind="message", user=SAM_ID, thread="dm", reply_to="channel", channel="DSAM",
            text="reset my password",
        ),
    ]  # fmt: skip
    for job in jobs_without_a_form:
        ops = await _processor().plan(job)
        assert len(ops) == 1 and "Blue-Kettle-42" not in json.dumps(ops)
        assert "only show it in a window" in json.dumps(ops)


async def test_a_private_reply_is_shown_only_in_the_code_form_it_answers() -> None:
    form = SubmitForm.of("reset_password", "code_form", {"code": "123456"})
    submitted = jobs.Job(
        kind="submission", user=SAM_ID, thread="dm", reply_to="dm",
        press=jobs.PressData(encode_action(form)), view_id="VCODE1",
    )  # fmt: skip
    ops = await _processor().plan(submitted)
    assert [op["op"] for op in ops] == ["view", "dm"]
    assert ops[0]["view_id"] == "VCODE1" and "Blue-Kettle-42" in json.dumps(ops[0]["view"])
    assert "Blue-Kettle-42" not in json.dumps(ops[0]["stored"])  # what the inbox may keep
    assert "Blue-Kettle-42" not in json.dumps(ops[1])
    assert "shown in the window" in ops[1]["message"]["text"]


def test_answers_are_only_posted_to_slack() -> None:
    settings = Settings()
    assert is_slack_url("https://hooks.slack.com/commands/T1/2/3", settings)
    assert not is_slack_url("http://hooks.slack.com/commands/T1/2/3", settings)
    assert not is_slack_url("https://evil.example/hooks.slack.com", settings)
    assert not is_slack_url("https://slack.com.evil.example/", settings)


# -- who is asking ------------------------------------------------------------------------------


async def test_identity_is_cached_in_the_staff_table_until_it_expires(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    db = Database(settings.database_url)
    await db.upgrade()
    now = [utcnow()]
    try:
        async with aiohttp.ClientSession() as session:
            client = web_client(slack_settings(settings, fake_slack), session)
            resolver = IdentityResolver(settings, db, client, clock=lambda: now[0])
            first = await resolver.resolve(SAM_ID)
            assert first.ok and first.council is not None and first.council.key == "dacorum"
            again = await IdentityResolver(settings, db, client, clock=lambda: now[0]).resolve(
                SAM_ID
            )  # another replica: the database answers
            assert again.email == "sam.taylor@dacorum.gov.uk"
            assert len(fake_slack.calls_to("users.info")) == 1

            fake_slack.add_user(SAM_ID, "sam.taylor2@dacorum.gov.uk", "Sam Taylor")
            now[0] += timedelta(hours=25)
            moved = await resolver.resolve(SAM_ID)
            assert moved.email == "sam.taylor2@dacorum.gov.uk"
            assert len(fake_slack.calls_to("users.info")) == 2

            fake_slack.add_user("UGUEST", "guest@partner.example", "A Guest")
            for _ in range(3):
                assert (await resolver.resolve("UGUEST")).problem == "outside"
            assert len(fake_slack.calls_to("users.info")) == 3
    finally:
        await db.dispose()


# -- the inbox ----------------------------------------------------------------------------------


def _job(user: str, thread: str = "dm") -> jobs.Job:
    return jobs.Job(kind="message", user=user, thread=thread, reply_to="channel", text="hi")


async def test_each_row_goes_to_exactly_one_of_several_workers(settings: Settings) -> None:
    db = Database(settings.database_url)
    await db.upgrade()
    try:
        writer = Inbox(db, worker_id="writer")
        await writer.start()
        results = await asyncio.gather(
            *(writer.record(f"event:E{n}", _job(f"U{n}")) for n in range(40)),
            writer.record("event:E0", _job("U0")),
        )
        await writer.stop()
        assert results.count(True) == 40 and results[-1] is False

        workers = [Inbox(db, worker_id=f"replica-{n}") for n in range(4)]

        async def drain(inbox: Inbox) -> list[int]:
            taken: list[int] = []
            while rows := await inbox.claim(limit=3, lease=timedelta(minutes=1)):
                taken.extend(row.id for row in rows)
                for row in rows:
                    assert await inbox.complete(row)
            return taken

        taken = await asyncio.gather(*(drain(w) for w in workers))
        every = [row_id for part in taken for row_id in part]
        assert len(every) == 40 and len(set(every)) == 40
        assert (await writer.counts()) == {"done": 40}
    finally:
        await db.dispose()


async def test_one_conversation_is_processed_in_order(settings: Settings) -> None:
    db = Database(settings.database_url)
    await db.upgrade()
    try:
        inbox = Inbox(db, worker_id="w")
        for n in range(3):
            await inbox.record(f"event:S{n}", _job("USAM"))
        await inbox.record("event:A0", _job("UALEX"))
        [first] = await inbox.claim(limit=1, lease=timedelta(minutes=1))
        assert first.job.user == "USAM"
        later = await inbox.claim(limit=10, lease=timedelta(minutes=1))
        assert [row.job.user for row in later] == ["UALEX"]  # Sam's next waits for the first
        await inbox.retry_later(first, error="Boom")
        assert await inbox.claim(limit=10, lease=timedelta(minutes=1)) == []  # backing off
        assert (await inbox.counts())["pending"] == 3
    finally:
        await db.dispose()


# -- the manifest -------------------------------------------------------------------------------


def test_the_manifest_declares_everything_the_listeners_handle() -> None:
    data = yaml.safe_load(manifest("https://itbot.example.gov.uk/"))
    settings = data["settings"]
    assert settings["event_subscriptions"]["request_url"] == (
        "https://itbot.example.gov.uk/slack/events"
    )
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "message.channels",  # agents' replies in the triage channel's threads
        "message.groups",  # the same, in a private triage channel
        "message.im",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    [slash] = data["features"]["slash_commands"]
    assert slash["command"] == COMMAND
    assert slash["url"] == "https://itbot.example.gov.uk/slack/events"
    [shortcut] = data["features"]["shortcuts"]
    assert shortcut["callback_id"] == jobs.TICKET_SHORTCUT and shortcut["type"] == "message"
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"users:read.email", "chat:write", "im:history", "commands"} <= scopes
    # the triage channel: thread replies, marking relayed replies, the agents' user group
    assert {"channels:history", "groups:history", "reactions:write", "usergroups:read"} <= scopes
    assert len(data["display_information"]["long_description"]) >= 175

    socket = yaml.safe_load(manifest(socket_mode=True))
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "YOUR-HOST" not in json.dumps(socket)

    for bad in ("http://itbot.example", "itbot.example", "https://x.example/?a=1"):
        with pytest.raises(ManifestError):
            manifest(bad)


def test_itbot_slack_manifest_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import slack as slack_cli

    parser = argparse.ArgumentParser(prog="itbot")
    slack_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["slack", "manifest", "--url", "https://itbot.example.gov.uk"])
    assert args.handler(args, Settings()) == 0
    printed = capsys.readouterr().out
    assert "request_url: https://itbot.example.gov.uk/slack/events" in printed

    args = parser.parse_args(["slack", "manifest", "--url", "http://insecure.example"])
    assert args.handler(args, Settings()) == 2
    assert "https://" in capsys.readouterr().err
