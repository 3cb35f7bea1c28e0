"""Button actions: typed values that survive the trip through every channel's wire format."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.channels.slack import jobs
from bot.conversation.actions import (
    Action,
    Ask,
    ChooseIntent,
    ConfirmSwitch,
    FlowAnswer,
    FlowCommand,
    SubmitForm,
    decode_action,
    encode_action,
)
from bot.conversation.messages import Button, Reply
from bot.conversation.notify import reply_from_json, reply_to_json
from bot.conversation.state import ConversationState, PendingSwitch
from bot.storage.models import Conversation

ACTIONS: list[Action] = [
    Ask("how do I share my calendar"),
    Ask("a | pipe, a: colon and “quotes” é"),
    Ask(""),
    ChooseIntent("raise_ticket"),
    ConfirmSwitch(True),
    ConfirmSwitch(False),
    FlowAnswer("raise_ticket", "device"),
    FlowAnswer("ticket_status", "show:JSD-000001"),
    FlowAnswer("raise_ticket", ""),
    FlowCommand("answer", "feedback", "no:email/out-of-office"),
    FlowCommand("ticket_status", "csat", "JSD-000001:5"),
    FlowCommand("answer", "none", "where | is the form?"),
    SubmitForm.of("raise_ticket", "form", {"summary": "VPN | drops", "details": "a\nb"}),
    SubmitForm.of("answer", "feedback", {}),
]


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_every_action_round_trips(action: Action) -> None:
    assert decode_action(encode_action(action)) == action
    decoded = jobs.decode_value(jobs.encode_value(action, "CGENERAL:1.2"))
    assert decoded == (action, "CGENERAL:1.2")
    stored = reply_from_json(reply_to_json(Reply("x", buttons=(Button("B", action),))))
    assert stored.buttons[0].action == action


def test_buttons_made_before_actions_were_typed_still_work() -> None:
    assert decode_action("flow:raise_ticket|device") == FlowAnswer("raise_ticket", "device")
    assert decode_action("intent", "raise_ticket") == ChooseIntent("raise_ticket")
    assert decode_action("answer:feedback", "yes:a/b") == FlowCommand(
        "answer", "feedback", "yes:a/b"
    )
    assert decode_action("switch", "no") == ConfirmSwitch(False)
    # a Slack button value of the old shape, action and value apart
    old = json.dumps({"a": "ticket_status:csat", "v": "JSD-000001:4", "t": "dm"})
    assert jobs.decode_value(old) == (FlowCommand("ticket_status", "csat", "JSD-000001:4"), "dm")
    # a notification stored with the old shape
    stored = {"text": "x", "buttons": [{"label": "See", "action": "intent", "value": "help"}]}
    assert reply_from_json(stored).buttons[0].action == ChooseIntent("help")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nonsense",
        "nonsense|x",
        "switch|maybe",
        "intent|",
        "intent|not an intent!",
        "flow:|x",
        "flow:a b|x",
        ":verb|x",
        "form:raise_ticket:form|{not json",
        "form:raise_ticket:form|[1, 2]",
        "form:raise_ticket|{}",
        "a:b:c|x",
        "\x00|\x00",
    ],
)
def test_a_garbled_press_decodes_to_nothing(raw: str) -> None:
    assert decode_action(raw) is None
    assert jobs.decode_value(json.dumps({"a": raw, "t": "dm"})) is None
    stored = {"text": "x", "buttons": [{"label": "B", "action": raw}]}
    assert reply_from_json(stored).buttons == ()  # a stored notification keeps its text


def test_a_garbled_slack_press_is_ignored() -> None:
    body = {
        "user": {"id": "U1"},
        "channel": {"id": "D1"},
        "actions": [{"action_id": "itbot:1", "value": json.dumps({"a": "flow:|x", "t": "dm"})}],
    }
    assert jobs.from_action(body) is None


def test_a_slack_form_reaches_the_flow_with_plain_field_names() -> None:
    view = {
        "private_metadata": json.dumps({"action": "raise_ticket:form", "thread": "dm"}),
        "state": {
            "values": {
                "summary": {"value": {"type": "plain_text_input", "value": "VPN drops"}},
                "impact": {"value": {"type": "radio_buttons", "selected_option": {"value": "x"}}},
            }
        },
    }
    job = jobs.from_submission({"user": {"id": "U1"}, "view": view})
    assert job is not None and job.press is not None
    assert job.press.typed() == SubmitForm.of(
        "raise_ticket", "form", {"summary": "VPN drops", "impact": "x"}
    )
    assert jobs.Job.from_json(json.loads(json.dumps(job.to_json()))) == job


def test_a_pending_switch_is_kept_apart_from_the_flows_data() -> None:
    row = Conversation(flow="raise_ticket", step="category", data={"summary": "Screen blank"})
    state = ConversationState.load(row)
    state.pending_switch = PendingSwitch("question", "how do I share my calendar")
    state.save(row, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    again = ConversationState.load(row)
    assert again.data == {"summary": "Screen blank"}
    assert again.pending_switch == PendingSwitch("question", "how do I share my calendar")
    assert again.take_switch() is not None and again.pending_switch is None
