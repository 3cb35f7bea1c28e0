"""The ticket form (a modal): opened from a message or the Home tab, submitted, answered in the DM.

What the person does in Slack → what the fake Slack Web API received.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.desk.tickets import Ticket
from bot.web import keys
from tests.slack.fake_slack import (
    SAM_ID,
    Call,
    SlackDriver,
    cached_models,
    fake_slack,
    home_opened,
    interaction,
    press,
    slack,
)

__all__ = ["cached_models", "fake_slack", "slack"]  # fixtures used below

VPN = "The VPN drops every ten minutes & I lose <my> work"


def _view(call: Call) -> dict[str, Any]:
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def _shortcut(text: str, *, trigger_id: str = "") -> str:
    payload: dict[str, Any] = {
        "type": "message_action",
        "callback_id": "raise_it_ticket",
        "user": {"id": SAM_ID},
        "channel": {"id": "CFINANCE"},
        "message": {"type": "message", "user": "UOTHER", "ts": "1.1", "text": text},
        "response_url": "https://hooks.slack.invalid/shortcut",
    }
    if trigger_id:
        payload["trigger_id"] = trigger_id
    return interaction(payload)


def _submit(
    view: dict[str, Any], *, summary: str, category: str, impact: str, details: str | None = None
) -> str:
    """Slack's ``view_submission`` for the opened ``view`` with these answers."""

    def chosen(value: str) -> dict[str, Any]:
        return {"selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}

    state = {
        "summary": {"value": {"type": "plain_text_input", "value": summary}},
        "category": {"value": {"type": "static_select", **chosen(category)}},
        "impact": {"value": {"type": "radio_buttons", **chosen(impact)}},
        "details": {"value": {"type": "plain_text_input", "value": details}},
    }
    submitted = {**view, "id": "VFORM", "state": {"values": state}}
    return interaction({"type": "view_submission", "user": {"id": SAM_ID}, "view": submitted})


async def _open_form(slack: SlackDriver, text: str = VPN) -> dict[str, Any]:
    await slack.send(_shortcut(text))
    [opened] = await slack.fake.wait_for("views.open")
    return _view(opened)


async def _tickets(slack: SlackDriver) -> list[Ticket]:
    db = slack.client.app[keys.SERVICES].db
    async with db.session() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def test_the_shortcut_opens_the_form_before_the_ack_prefilled_with_the_message(
    slack: SlackDriver,
) -> None:
    response = await slack.send(_shortcut(VPN, trigger_id="1234.5678.abcdef"))
    assert response.status == 200
    [opened] = slack.fake.calls_to("views.open")  # already there when the ack arrived
    assert opened.params["trigger_id"] == "1234.5678.abcdef"
    view = _view(opened)
    assert view["type"] == "modal"
    assert view["callback_id"] == "itbot:ticket_form"
    assert json.loads(view["private_metadata"]) == {"action": "raise_ticket:form", "thread": "dm"}
    inputs = {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}
    assert inputs["summary"]["element"]["initial_value"] == VPN  # as typed: inputs aren't escaped
    categories = [o["value"] for o in inputs["category"]["element"]["options"]]
    assert categories == ["email", "calendar", "documents", "sign-in", "device", "other"]
    impacts = inputs["impact"]["element"]["options"]
    assert impacts[1]["text"]["text"] == "I can't work at all"
    assert impacts[1]["description"]["text"].startswith("Priority P2: One person cannot work")
    assert inputs["details"]["optional"] is True
    await slack.fake.settle(0.5)
    assert not slack.fake.calls_to("chat.postMessage")  # nothing else happens until it's sent


async def test_a_long_message_fills_the_summary_and_the_details(slack: SlackDriver) -> None:
    long = "Since this morning " + "the shared drive is very slow " * 20
    view = await _open_form(slack, long)
    inputs = {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}
    summary = inputs["summary"]["element"]["initial_value"]
    assert len(summary) <= 200 and summary.endswith("…")
    assert inputs["details"]["element"]["initial_value"] == long.strip()


async def test_the_submitted_form_raises_the_ticket_and_says_so_in_the_dm(
    slack: SlackDriver,
) -> None:
    view = await _open_form(slack)
    response = await slack.send(
        _submit(
            view, summary=VPN, category="other", impact="blocked", details="Since Monday, at home"
        )
    )
    assert response.status == 200
    assert (await response.text()) == ""  # an empty ack closes the modal

    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "DSAMTAYLOR"
    assert post.params["text"].startswith("Done: JSD-000001 is with the")
    assert "priority P2" in post.params["text"]
    [ticket] = await _tickets(slack)
    assert (ticket.summary, ticket.category, ticket.priority) == (VPN, "other", "P2")
    assert ticket.description == "Since Monday, at home"
    assert ticket.impact == "I can't work at all"
    assert ticket.source == "form"


async def test_a_similar_open_ticket_is_offered_before_raising_another(
    slack: SlackDriver,
) -> None:
    view = await _open_form(slack)
    await slack.send(_submit(view, summary=VPN, category="other", impact="blocked"))
    await slack.fake.wait_for("chat.postMessage")

    again = "VPN keeps dropping every ten minutes"
    await slack.send(_submit(view, summary=again, category="other", impact="workaround"))
    posts = await slack.fake.wait_for("chat.postMessage", 2)
    offer = posts[1]
    assert "You already have 1 open ticket(s) that look similar" in offer.params["text"]
    assert "Add to JSD-000001" in offer.block_text
    assert len(await _tickets(slack)) == 1  # nothing raised yet

    await slack.send(press(SAM_ID, offer, "No, raise a new ticket"))
    posts = await slack.fake.wait_for("chat.postMessage", 3)
    assert posts[2].params["text"].startswith("Done: JSD-000002")  # no second "Shall I?"
    assert "priority P3" in posts[2].params["text"]
    assert [t.summary for t in await _tickets(slack)] == [VPN, again]


async def test_an_empty_summary_keeps_the_form_open_and_says_why(slack: SlackDriver) -> None:
    view = await _open_form(slack)
    response = await slack.send(_submit(view, summary="   ", category="email", impact="request"))
    assert response.status == 200
    assert await response.json() == {
        "response_action": "errors",
        "errors": {"summary": "Please say in a few words what the problem is."},
    }
    await slack.fake.settle(0.5)
    assert not slack.fake.calls_to("chat.postMessage")
    assert not await _tickets(slack)


async def test_raise_a_ticket_on_the_home_tab_opens_the_same_form(slack: SlackDriver) -> None:
    await slack.send(home_opened(SAM_ID))
    [publish] = await slack.fake.wait_for("views.publish")
    home = _view(publish)
    button = next(
        element
        for block in home["blocks"]
        for element in block.get("elements", [])
        if element.get("type") == "button" and element["text"]["text"] == "Raise a ticket"
    )
    payload = {
        "type": "block_actions",
        "user": {"id": SAM_ID},
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [{**button, "block_id": "home-menu", "action_ts": "1"}],
    }
    response = await slack.send(interaction(payload))
    assert response.status == 200
    [opened] = slack.fake.calls_to("views.open")
    view = _view(opened)
    assert view["callback_id"] == "itbot:ticket_form"
    summary = next(b for b in view["blocks"] if b.get("block_id") == "summary")
    assert "initial_value" not in summary["element"]  # nothing to prefill from the Home tab
    await slack.fake.settle(0.5)
    assert not slack.fake.calls_to("chat.postMessage")


async def test_when_the_form_cannot_open_from_home_the_dm_flow_starts(
    slack: SlackDriver,
) -> None:
    slack.fake.fail("views.open", "service_unavailable")
    await slack.send(home_opened(SAM_ID))
    [publish] = await slack.fake.wait_for("views.publish")
    button = next(
        element
        for block in _view(publish)["blocks"]
        for element in block.get("elements", [])
        if element.get("type") == "button" and element["text"]["text"] == "Raise a ticket"
    )
    payload = {
        "type": "block_actions",
        "user": {"id": SAM_ID},
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [{**button, "block_id": "home-menu", "action_ts": "1"}],
    }
    await slack.send(interaction(payload))
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "DSAMTAYLOR"
    assert "what's the problem?" in post.params["text"].lower()
