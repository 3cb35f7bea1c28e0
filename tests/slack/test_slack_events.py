"""Slack over real HTTP: signed requests in, what the fake Slack Web API received out.

What the person does in Slack → what the bot posts back.
"""

from __future__ import annotations

import json
import time

from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys
from tests.slack.fake_slack import (
    ALEX_ID,
    BOT_USER,
    SAM_ID,
    FakeSlack,
    SlackDriver,
    app_mention,
    cached_models,
    fake_slack,
    home_opened,
    interaction,
    message_im,
    sign,
    slack,
)

__all__ = ["cached_models", "fake_slack", "slack"]  # fixtures used below

OUT_OF_OFFICE = "how do I turn on my out of office reply in Outlook"


async def test_url_verification_echoes_the_challenge(slack: SlackDriver) -> None:
    response = await slack.send(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    )
    assert response.status == 200
    assert (await response.json()) == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}


async def test_a_dm_question_is_answered_with_an_article_card(slack: SlackDriver) -> None:
    response = await slack.send(message_im(SAM_ID, OUT_OF_OFFICE))
    assert response.status == 200

    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "D" + SAM_ID[1:]
    assert not post.params.get("thread_ts")  # a DM is answered in the DM itself
    headers = [b for b in post.blocks if b["type"] == "header"]
    assert headers, post.block_text
    title = headers[0]["text"]["text"].lower()
    assert "out of office" in title or "automatic repl" in title
    link = next(
        e for b in post.blocks if b["type"] == "actions" for e in b["elements"] if "url" in e
    )
    assert "/kb/" in link["url"]
    assert "Was this helpful?" in post.block_text
    labels = [e["text"]["text"] for b in post.blocks for e in b.get("elements", [])]
    assert {"Yes", "No"} <= set(labels)
    assert post.params["text"]  # the plain-text fallback for notifications

    [info] = slack.fake.calls_to("users.info")
    assert info.params["user"] == SAM_ID


async def test_a_mention_is_answered_in_a_thread_never_in_the_channel(
    slack: SlackDriver,
) -> None:
    body = app_mention(ALEX_ID, "how do I share my calendar?", channel="CGENERAL")
    await slack.send(body)

    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "CGENERAL"
    assert post.params["thread_ts"] == body["event"]["ts"]
    assert "calendar" in post.block_text.lower()


async def test_app_home_is_published_when_opened(slack: SlackDriver) -> None:
    await slack.send(home_opened(SAM_ID))

    [publish] = await slack.fake.wait_for("views.publish")
    assert publish.params["user_id"] == SAM_ID
    view = publish.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    text = json.dumps(view)
    assert "What I can do" in text and "My open tickets" in text and "Most-read guides" in text
    assert "Dacorum Borough Council" in text
    assert "You have no open tickets." in text


async def test_app_home_lists_my_open_tickets(slack: SlackDriver) -> None:
    await slack.send(message_im(SAM_ID, "hello"))  # the bot learns who Sam is
    await slack.fake.wait_for("chat.postMessage")
    services = slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        sam = await staff_repo.get_by_email(session, "sam.taylor@dacorum.gov.uk")
        assert sam is not None
        await services.desk.raise_ticket(
            session, requester=sam, summary="Second screen is blank", category="device",
            priority="P3", now=utcnow(),
        )  # fmt: skip
    await slack.send(home_opened(SAM_ID))
    [publish] = await slack.fake.wait_for("views.publish")
    view = publish.params["view"]
    text = view if isinstance(view, str) else json.dumps(view, ensure_ascii=False)
    assert "JSD-000001" in text and "Second screen is blank" in text
    assert "New · P3" in text


async def test_forged_signature_is_refused(slack: SlackDriver) -> None:
    body = json.dumps(message_im(SAM_ID, "hello"))
    headers = {"Content-Type": "application/json", **sign(body, secret="not-the-secret")}
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401

    unsigned = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status == 401
    await slack.fake.settle(0.5)
    assert not slack.fake.calls_to("chat.postMessage")


async def test_a_request_older_than_five_minutes_is_refused(slack: SlackDriver) -> None:
    body = json.dumps(message_im(SAM_ID, "hello"))
    stale = sign(body, timestamp=int(time.time()) - 5 * 60 - 10)
    response = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": "application/json", **stale}
    )
    assert response.status == 401
    await slack.fake.settle(0.5)
    assert not slack.fake.calls_to("chat.postMessage")


async def test_messages_from_bots_and_edits_are_acknowledged_and_ignored(
    slack: SlackDriver,
) -> None:
    own = message_im(SAM_ID, "Here's the guide", bot_id="BITDESK")
    own["event"]["user"] = BOT_USER
    edited = message_im(SAM_ID, "edited", subtype="message_changed")
    for body in (own, edited):
        response = await slack.send(body)
        assert response.status == 200
    await slack.fake.settle(0.5)
    assert not slack.fake.calls_to("chat.postMessage")


async def test_people_outside_both_councils_get_one_clear_reply(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("UCONTRACT", "pat@contractor.example", "Pat Contractor")
    fake_slack.add_user("UNOEMAIL", None, "No Email")
    await slack.send(message_im("UCONTRACT", OUT_OF_OFFICE))
    await slack.send(message_im("UNOEMAIL", OUT_OF_OFFICE))

    posts = await fake_slack.wait_for("chat.postMessage", 2)
    by_channel = {p.params["channel"]: p for p in posts}
    outside = by_channel["DCONTRACT"]
    assert "only help staff of" in outside.params["text"]
    assert "header" not in outside.block_text  # no article, nothing else
    assert "can't see an email address" in by_channel["DNOEMAIL"].params["text"]
    await fake_slack.settle(0.5)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_a_guide_chosen_on_the_home_tab_arrives_in_the_dm(slack: SlackDriver) -> None:
    await slack.send(home_opened(SAM_ID))
    [publish] = await slack.fake.wait_for("views.publish")
    view = publish.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    button = next(b["accessory"] for b in view["blocks"] if "accessory" in b)
    payload = {
        "type": "block_actions",
        "user": {"id": SAM_ID},
        "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "type": "home"},
        "actions": [{**button, "block_id": "b1", "action_ts": "1"}],
    }
    response = await slack.send(interaction(payload))
    assert response.status == 200
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "DSAMTAYLOR"  # via conversations.open
    assert slack.fake.calls_to("conversations.open")
    assert any(b["type"] == "header" for b in post.blocks)
