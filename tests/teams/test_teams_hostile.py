"""Signed Teams activities of any shape get an answer or a 4xx: never a 5xx, never an
unhandled exception in the logs (the Bot Connector's token proves who sent the activity,
not that its body makes sense)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import ANY_TEXT, FAST, JSON, in_thread, runner
from tests.teams.fake_teams import (
    ALEX,
    SAM,
    TeamsDriver,
    cached_models,
    fake_teams,
    message,
    teams,
)

__all__ = ["cached_models", "fake_teams", "teams"]  # fixtures used below

#: the keys an activity has, and a few it may have
_KEYS = st.sampled_from(
    (
        *("type", "name", "id", "text", "value", "from", "conversation", "recipient"),
        *("channelData", "serviceUrl", "replyToId", "entities", "attachments", "action"),
        *("membersAdded", "timestamp", "channelId", "locale"),
    )
)
_TYPES = st.sampled_from(
    ("message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "")
)
_INVOKES = st.sampled_from(("task/fetch", "task/submit", "adaptiveCard/action", "signin/x", ""))


@st.composite
def activity(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A real person's activity with any of its fields replaced by anything: other types,
    invokes with any data, a button's value of any shape, nested junk, missing keys."""
    body = dict(base)
    body["type"] = draw(_TYPES | ANY_TEXT)
    if draw(st.booleans()):
        body["name"] = draw(_INVOKES)
        body["value"] = {"type": body["name"], "data": draw(JSON)}
    body["text"] = draw(ANY_TEXT)
    for key, value in draw(st.dictionaries(_KEYS, JSON, max_size=4)).items():
        if key != "serviceUrl":  # the token names the service it came from
            body[key] = value
    for key in draw(st.lists(_KEYS, max_size=2)):
        body.pop(key, None)
    return body


async def test_any_signed_activity_gets_no_5xx(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture
) -> None:
    run = runner(asyncio.get_running_loop())
    statuses: list[int] = []
    person = message(teams.fake, SAM, "hello")
    other = message(teams.fake, ALEX, "hello", personal=False, conversation="19:general")

    async def post(body: dict[str, Any]) -> int:
        response = await teams.send(body | {"serviceUrl": teams.fake.service_url})
        await response.read()
        return int(response.status)

    @FAST
    @given(body=activity(person) | activity(other))
    def check(body: dict[str, Any]) -> None:
        status = run(post(body))
        statuses.append(status)
        assert status < 500, (status, body)

    await in_thread(check)
    assert statuses  # hypothesis ran the check
    crashed = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not crashed, [r.getMessage() for r in crashed]
