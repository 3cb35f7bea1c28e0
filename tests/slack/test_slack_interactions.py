"""/itdesk, buttons, the message shortcut, modals and Socket Mode, over real HTTP/WebSocket."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Secret, Settings
from tests.slack.fake_slack import (
    ALEX_ID,
    APP_TOKEN,
    SAM_ID,
    Call,
    FakeSlack,
    Models,
    SlackDriver,
    app_mention,
    cached_models,
    command,
    event_callback,
    fake_slack,
    interaction,
    message_im,
    press,
    slack,
    slack_settings,
)

__all__ = ["cached_models", "fake_slack", "slack"]  # fixtures used below

OUT_OF_OFFICE = "how do I turn on my out of office reply in Outlook"


def _headers(post: Call) -> str:
    return " ".join(b["text"]["text"].lower() for b in post.blocks if b["type"] == "header")


async def test_itdesk_is_acknowledged_at_once_and_the_answer_follows(slack: SlackDriver) -> None:
    url = slack.fake.response_url("itdesk-1")
    started = time.monotonic()
    response = await slack.send(command(SAM_ID, OUT_OF_OFFICE, url))
    acked_in = time.monotonic() - started
    assert response.status == 200
    assert acked_in < 3.0

    [answer] = await slack.fake.wait_for("response_url")
    assert answer.path == "/hooks/itdesk-1"
    assert answer.params["response_type"] == "ephemeral"  # only the asker sees it
    assert "out of office" in _headers(answer) or "automatic repl" in _headers(answer)
    assert answer.params["text"]
    assert not slack.fake.calls_to("chat.postMessage")  # nothing posted in the channel


async def test_itdesk_without_a_question_shows_what_the_bot_can_do(slack: SlackDriver) -> None:
    await slack.send(command(ALEX_ID, "", slack.fake.response_url("itdesk-2")))
    [answer] = await slack.fake.wait_for("response_url")
    assert "I can answer questions" in answer.params["text"]
    assert "Reset my password" in answer.block_text


async def test_a_button_press_continues_the_conversation(slack: SlackDriver) -> None:
    fake = slack.fake
    await slack.send(message_im(SAM_ID, OUT_OF_OFFICE))
    [answer] = await fake.wait_for("chat.postMessage")

    response = await slack.send(press(SAM_ID, answer, "No"))
    assert response.status == 200
    posts = await fake.wait_for("chat.postMessage", 2)
    sorry = posts[1]
    assert "Thanks for telling me" in sorry.params["text"]
    assert "01632 960 200" in sorry.params["text"]  # Dacorum's desk, not Aylesbury Vale's
    [update] = await fake.wait_for("chat.update")
    assert "You chose *No*" in update.block_text
    assert "Was this helpful?" in update.block_text
    assert '"No"' not in update.block_text  # the buttons are gone: no second press

    await slack.send(press(SAM_ID, sorry, "Raise a ticket"))
    posts = await fake.wait_for("chat.postMessage", 3)
    # the raise_ticket flow took over, from the question the guide didn't answer
    assert "Which of these is it about?" in posts[2].params["text"]


async def test_a_press_in_a_mention_thread_is_answered_in_that_thread(
    slack: SlackDriver,
) -> None:
    body = app_mention(ALEX_ID, OUT_OF_OFFICE, channel="CHOUSING")
    await slack.send(body)
    [answer] = await slack.fake.wait_for("chat.postMessage")
    await slack.send(press(ALEX_ID, answer, "Yes"))
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    assert posts[1].params["channel"] == "CHOUSING"
    assert posts[1].params["thread_ts"] == body["event"]["ts"]
    assert "glad that helped" in posts[1].params["text"]


async def test_a_press_on_an_itdesk_answer_replies_privately(slack: SlackDriver) -> None:
    await slack.send(command(SAM_ID, OUT_OF_OFFICE, slack.fake.response_url("itdesk-3")))
    [answer] = await slack.fake.wait_for("response_url")
    url = slack.fake.response_url("press-3")
    await slack.send(press(SAM_ID, answer, "Yes", response_url=url))
    replies = await slack.fake.wait_for("response_url", 2)
    assert replies[1].path == "/hooks/press-3"
    assert "glad that helped" in replies[1].params["text"]
    assert not slack.fake.calls_to("chat.postMessage")


async def test_raise_an_it_ticket_starts_raise_ticket_in_a_dm_when_the_form_cannot_open(
    slack: SlackDriver,
) -> None:
    slack.fake.fail("views.open", "expired_trigger_id")  # the form: see test_slack_forms
    body = interaction(
        {
            "type": "message_action",
            "callback_id": "raise_it_ticket",
            "user": {"id": SAM_ID},
            "channel": {"id": "CFINANCE"},
            "message": {
                "type": "message",
                "user": "UOTHER",
                "ts": "1.1",
                "text": "The VPN drops every ten minutes",
            },
            "response_url": slack.fake.response_url("shortcut"),
        }
    )
    response = await slack.send(body)
    assert response.status == 200
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "DSAMTAYLOR"  # in the DM, not in #finance
    # raise_ticket started privately, with the message as the problem: next it asks the category
    assert "Which of these is it about?" in post.params["text"]
    [tried] = [c for c in slack.fake.calls if c.method == "views.open"]
    assert tried.result == {"ok": False, "error": "expired_trigger_id"}


async def test_a_submitted_modal_reaches_the_conversation_and_closes(
    slack: SlackDriver,
) -> None:
    view: dict[str, Any] = {
        "id": "V1",
        "type": "modal",
        "callback_id": "itbot:feedback",
        "private_metadata": json.dumps({"action": "answer:feedback", "thread": "dm"}),
        "state": {"values": {"verdict": {"choice": {"type": "plain_text_input", "value": "no"}}}},
    }
    body = interaction({"type": "view_submission", "user": {"id": SAM_ID}, "view": view})
    response = await slack.send(body)
    assert response.status == 200
    assert (await response.text()) == ""  # an empty ack closes the modal
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "DSAMTAYLOR"


async def test_socket_mode_uses_the_same_listeners(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> None:
    config = slack_settings(
        settings, fake_slack, slack_signing_secret=None, slack_app_token=Secret(APP_TOKEN)
    )
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        no_http = await client.post("/slack/events", data="{}")
        assert no_http.status in {404, 405}  # no signing secret: no HTTP endpoint
        envelope = {
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": message_im(SAM_ID, OUT_OF_OFFICE),
        }
        await fake_slack.socket_send(envelope)
        [post] = await fake_slack.wait_for("chat.postMessage")
        assert post.params["channel"] == "DSAMTAYLOR"
        assert {"envelope_id": envelope["envelope_id"]} in fake_slack.socket_acks
        home = {**envelope, "envelope_id": "e2", "payload": event_callback({"type": "x"})}
        await fake_slack.socket_send(home)
        await fake_slack.settle(0.3)
    assert [c.method for c in fake_slack.calls].count("apps.connections.open") >= 1
