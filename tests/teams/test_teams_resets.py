"""A password reset in a Teams personal chat: the code in a dialog (a task module), the
temporary password shown once there and never in the chat.

The real app runs on the demo directory; codes are read from the file notifier
(``ITBOT_NOTIFY=file:PATH``), as the person's phone would show them.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.web import keys
from integrations.identity.demo import DemoDirectory
from tests.slack.fake_slack import Models
from tests.teams.fake_teams import (
    SAM,
    FakeTeams,
    TeamsDriver,
    cached_models,
    fake_teams,
    invoke,
    message,
    teams_settings,
)

__all__ = ["cached_models", "fake_teams"]  # fixtures used below

SAM_EMAIL, SAM_MOBILE = "sam.taylor@dacorum.gov.uk", "07700 900123"


@pytest.fixture
async def resets(
    settings: Settings, fake_teams: FakeTeams, cached_models: Models, tmp_path: Path
) -> AsyncIterator[tuple[TeamsDriver, Path]]:
    outbox = tmp_path / "notify.jsonl"
    config = teams_settings(settings, fake_teams, directory="demo", notify=f"file:{outbox}")
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        yield TeamsDriver(client, fake_teams, app), outbox


def _code(outbox: Path, to: str) -> str:
    sent = [json.loads(line) for line in outbox.read_text().splitlines()]
    codes = [m for m in sent if m["to"] == to and m["purpose"] == "code"]
    assert codes, f"no code was sent to {to}"
    return str(codes[-1]["text"][:6])


def _dialog(body: dict[str, Any]) -> dict[str, Any]:
    assert body["task"]["type"] == "continue"
    return dict(body["task"]["value"]["card"]["content"])


async def test_a_password_reset_shows_the_password_only_in_the_dialog(
    resets: tuple[TeamsDriver, Path],
) -> None:
    teams, outbox = resets
    fake = teams.fake
    await teams.send(message(fake, SAM, "I forgot my password"))
    asked = fake.posts()[-1]
    assert "your mobile ending 123" in asked.card_text
    assert SAM_MOBILE not in asked.card_text
    enter = asked.button("Enter the code")
    assert enter["data"]["msteams"] == {"type": "task/fetch"}
    code = _code(outbox, SAM_MOBILE)
    assert code not in asked.card_text

    fetched = await teams.send(invoke(fake, SAM, "task/fetch", enter["data"]))
    assert fetched.status == 200
    form = _dialog(await fetched.json())
    submit = form["actions"][0]["data"]

    wrong = await teams.send(invoke(fake, SAM, "task/submit", {**submit, "code": "12ab"}))
    assert "digits only" in json.dumps(_dialog(await wrong.json()))

    posts_before = len(fake.posts())
    answered = await teams.send(invoke(fake, SAM, "task/submit", {**submit, "code": code}))
    dialog = _dialog(await answered.json())
    shown = "\n".join(block["text"] for block in dialog["body"])
    found = re.search(r"temporary password is:\s+(\S+)", shown)
    assert found, shown
    password = found.group(1)
    assert "Shown once" in shown
    db = teams.app[keys.SERVICES].db
    assert await DemoDirectory(db.engine).check_password(SAM_EMAIL, password)

    note = fake.posts()[posts_before]  # the chat says where it went, never what it is
    assert "temporary password was shown in the window" in note.card_text
    assert password not in json.dumps([c.body for c in fake.calls])
    assert code not in json.dumps([c.body for c in fake.calls])
