"""Password, unlock and MFA resets in Slack: the code in a modal, the password shown once there.

What people do in Slack → what the fake Slack Web API received. The real app runs on the demo
directory; codes are read from the file notifier (``ITBOT_NOTIFY=file:PATH``), as the
person's phone would show them. MFA resets are decided with the triage channel's buttons.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from bot.access.tables import OneTimeCode
from bot.desk.approvals import Approval
from bot.desk.watch import sweep_once
from bot.settings import Settings
from bot.storage.models import Base, utcnow
from bot.web import keys
from integrations.identity.demo import DemoDirectory, demo_directory
from tests.slack.fake_slack import (
    SAM_ID,
    Call,
    FakeSlack,
    Models,
    SlackDriver,
    app_mention,
    cached_models,
    fake_slack,
    interaction,
    is_approval_request,
    message_im,
    press,
    press_approval,
    slack_settings,
)

__all__ = ["cached_models", "fake_slack"]  # fixtures used below

SAM, SAM_MOBILE = "sam.taylor@dacorum.gov.uk", "07700 900123"
JAMIE, JAMIE_ID, JAMIE_MOBILE = "jamie.patel@aylesburyvaledc.gov.uk", "UJAMIEPAT", "07700 900345"
CHRIS, CHRIS_ID = "chris.morgan@dacorum.gov.uk", "UCHRISMOR"  # an administrator
ROBIN, ROBIN_ID = "robin.hughes@aylesburyvaledc.gov.uk", "UROBINHUG"  # no alternate contact
PAT, PAT_ID = "pat.singh@dacorum.gov.uk", "UPATAGENT"
TRIAGE = "CTRIAGE01"
TYPED_SECRET = "Hunter2!xyz"  # what someone types into a ticket


@dataclasses.dataclass
class Resets:
    """The running app, the fake Slack, and the codes the notifier sent."""

    slack: SlackDriver
    outbox: Path

    @property
    def fake(self) -> FakeSlack:
        return self.slack.fake

    def code(self, to: str) -> str:
        sent = [json.loads(line) for line in self.outbox.read_text().splitlines()]
        codes = [m for m in sent if m["to"] == to and m["purpose"] == "code"]
        assert codes, f"no code was sent to {to}"
        return str(codes[-1]["text"][:6])

    def codes(self) -> list[str]:
        if not self.outbox.exists():
            return []
        sent = [json.loads(line) for line in self.outbox.read_text().splitlines()]
        return [str(m["text"][:6]) for m in sent if m["purpose"] == "code"]

    async def dm(self, user: str, text: str) -> Call:
        """``user`` types ``text`` in their DM with the bot → the bot's answer there."""
        return await self._next_post(user, lambda: self.slack.send(message_im(user, text)))

    async def press(self, user: str, post: Call, label: str) -> Call:
        return await self._next_post(user, lambda: self.slack.send(press(user, post, label)))

    async def _next_post(self, user: str, act: Any) -> Call:
        channel = "D" + user[1:]
        before = len(self.posts(channel))
        response = await act()
        assert response.status == 200
        found = await self.fake.wait_for(
            "chat.postMessage", before + 1, where=lambda c: c.params.get("channel") == channel
        )
        return found[before]

    def posts(self, channel: str) -> list[Call]:
        return [c for c in self.fake.calls_to("chat.postMessage") if c.params["channel"] == channel]

    async def enter_code(self, user: str, post: Call, code: str) -> tuple[Any, dict[str, Any]]:
        """Press "Enter the code" under ``post``, type ``code`` in the modal and submit it →
        the ack's body and the view the modal became (``views.update``)."""
        opened = len(self.fake.calls_to("views.open"))
        await self.slack.send(press(user, post, "Enter the code"))
        view = _view(self.fake.calls_to("views.open")[opened])  # opened before the ack
        assert view["callback_id"] == "itbot:code_form"
        updates = len(self.fake.calls_to("views.update"))
        posts = len(self.posts("D" + user[1:]))
        view_id = f"VCODE{time.monotonic_ns()}"
        state = {"code": {"value": {"type": "plain_text_input", "value": code}}}
        submitted = {**view, "id": view_id, "state": {"values": state}}
        response = await self.slack.send(
            interaction({"type": "view_submission", "user": {"id": user}, "view": submitted})
        )
        assert response.status == 200
        ack = await response.json()
        if ack.get("response_action") == "errors":
            return ack, {}
        found = await self.fake.wait_for("views.update", updates + 1)
        update = found[updates]
        assert update.params["view_id"] == view_id
        # and the turn's note in the DM (sent after the modal's update)
        await self.fake.wait_for(
            "chat.postMessage", posts + 1, where=lambda c: c.params["channel"] == "D" + user[1:]
        )
        return ack, _view(update)

    async def person(self, email: str) -> dict[str, Any]:
        db = self.slack.client.app[keys.SERVICES].db
        async with db.engine.connect() as conn:
            query = sa.select(demo_directory).where(demo_directory.c.email == email)
            return dict((await conn.execute(query)).one()._mapping)


def _view(call: Call) -> dict[str, Any]:
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def _temporary_password(view: dict[str, Any]) -> str:
    found = re.search(r"temporary password is:\s+(\S+)", _text(view).replace("\\n", "\n"))
    assert found, _text(view)
    return found.group(1)


def _to(user: str) -> Any:
    return lambda c: c.params.get("channel") == "D" + user[1:]


@pytest.fixture
async def resets(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models, tmp_path: Path
) -> AsyncIterator[Resets]:
    async with _running(settings, fake_slack, cached_models, tmp_path) as running:
        yield running


@contextlib.asynccontextmanager
async def _running(
    settings: Settings, fake: FakeSlack, models: Models, tmp_path: Path, **changes: Any
) -> AsyncIterator[Resets]:
    for user_id, email, name in (
        (JAMIE_ID, JAMIE, "Jamie Patel"),
        (CHRIS_ID, CHRIS, "Chris Morgan"),
        (ROBIN_ID, ROBIN, "Robin Hughes"),
        (PAT_ID, PAT, "Pat Singh"),
    ):
        fake.add_user(user_id, email, name)
    outbox = tmp_path / "notify.jsonl"
    config = slack_settings(
        settings,
        fake,
        directory="demo",
        notify=f"file:{outbox}",
        slack_triage_channel=TRIAGE,
        desk_agents=(PAT,),
        **changes,
    )
    async with (
        models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        yield Resets(SlackDriver(client, fake), outbox)


# -- password ------------------------------------------------------------------------------


async def test_a_password_reset_shows_the_password_only_in_the_modal(resets: Resets) -> None:
    asked = await resets.dm(SAM_ID, "I forgot my password")
    assert "your mobile ending 123" in asked.params["text"]
    assert SAM_MOBILE not in asked.block_text
    assert "Enter the code" in asked.block_text and "itbot:code_form" in asked.block_text
    code = resets.code(SAM_MOBILE)
    assert code not in asked.block_text

    ack, view = await resets.enter_code(SAM_ID, asked, code)
    assert ack["response_action"] == "update" and "Checking your code" in _text(ack["view"])
    password = _temporary_password(view)
    assert "Shown once — copy it now; you must change it when you sign in" in _text(view)
    assert await DemoDirectory(resets.slack.client.app[keys.SERVICES].db.engine).check_password(
        SAM, password
    )
    note = resets.posts("DSAMTAYLOR")[-1]  # the DM says where it went, never what it is
    assert "temporary password was shown in the window" in note.params["text"]
    calls = [c for c in resets.fake.calls if c.method != "views.update"]
    assert password not in json.dumps([c.params for c in calls])
    assert not resets.fake.calls_to("chat.postEphemeral")


async def test_a_code_typed_in_the_dm_does_not_reset_a_password(resets: Resets) -> None:
    asked = await resets.dm(SAM_ID, "reset my password")
    code = resets.code(SAM_MOBILE)
    typed = await resets.dm(SAM_ID, code)
    assert "Enter the code" in typed.block_text and "temporary password" in typed.params["text"]
    assert "can only be shown in the window" in typed.params["text"]
    assert (await resets.person(SAM))["must_change_password"] is False
    _, view = await resets.enter_code(SAM_ID, asked, code)  # the code still works
    assert _temporary_password(view)


async def test_five_wrong_codes_end_the_attempt(resets: Resets) -> None:
    asked = await resets.dm(SAM_ID, "reset my password")
    code = resets.code(SAM_MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    for left in ("4 more tries", "3 more tries", "2 more tries", "1 more try"):
        _, view = await resets.enter_code(SAM_ID, asked, wrong)
        assert left in _text(view) and view["blocks"][-2]["block_id"] == "code"
    _, view = await resets.enter_code(SAM_ID, asked, wrong)
    assert "five wrong codes" in _text(view)
    _, view = await resets.enter_code(SAM_ID, asked, code)  # right, but too late
    assert "temporary password" not in _text(view)
    assert (await resets.person(SAM))["must_change_password"] is False


async def test_not_digits_keep_the_modal_open(resets: Resets) -> None:
    asked = await resets.dm(SAM_ID, "reset my password")
    ack, _ = await resets.enter_code(SAM_ID, asked, "12ab56")
    assert ack["response_action"] == "errors" and "digits" in ack["errors"]["code"]


async def test_an_expired_code_is_refused_and_a_new_one_works(resets: Resets) -> None:
    asked = await resets.dm(SAM_ID, "reset my password")
    code = resets.code(SAM_MOBILE)
    db = resets.slack.client.app[keys.SERVICES].db
    async with db.session() as session, session.begin():  # ten minutes pass
        await session.execute(sa.update(OneTimeCode).values(expires_at=utcnow() - timedelta(1)))
    _, view = await resets.enter_code(SAM_ID, asked, code)
    assert "expired" in _text(view) and "temporary password" not in _text(view)
    [_, expired] = await resets.fake.wait_for("chat.postMessage", 2, where=_to(SAM_ID))
    again = await resets.press(SAM_ID, expired, "Send a new code")
    fresh = resets.code(SAM_MOBILE)
    assert fresh != code or len(resets.codes()) == 2
    _, view = await resets.enter_code(SAM_ID, again, fresh)
    assert _temporary_password(view)


async def test_privileged_and_no_contact_are_refused_alike(resets: Resets) -> None:
    admin = await resets.dm(CHRIS_ID, "reset my password")
    nobody = await resets.dm(ROBIN_ID, "reset my password")
    for refused in (admin, nobody):
        assert "passed it to the Joint ICT Service Desk as JSD-" in refused.params["text"]
        assert "Enter the code" not in refused.block_text
    assert resets.codes() == []


async def test_throttled_codes_become_a_ticket(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models, tmp_path: Path
) -> None:
    async with _running(settings, fake_slack, cached_models, tmp_path, code_limit=1) as resets:
        asked = await resets.dm(SAM_ID, "reset my password")
        again = await resets.press(SAM_ID, asked, "Send a new code")
        assert "passed it to the Joint ICT Service Desk" in again.params["text"]
        assert len(resets.codes()) == 1


async def test_for_a_colleague_becomes_a_ticket(resets: Resets) -> None:
    answer = await resets.dm(SAM_ID, "can you reset my colleague Priya's password")
    assert "can't do that for a colleague" in answer.params["text"]
    assert "JSD-" in answer.params["text"]
    assert resets.codes() == []


async def test_cancel_mid_flow_leaves_the_code_useless(resets: Resets) -> None:
    asked = await resets.dm(SAM_ID, "reset my password")
    code = resets.code(SAM_MOBILE)
    assert "stopped that" in (await resets.dm(SAM_ID, "cancel")).params["text"]
    _, view = await resets.enter_code(SAM_ID, asked, code)
    assert "not waiting for a code" in _text(view)
    assert (await resets.person(SAM))["must_change_password"] is False


async def test_a_reset_asked_in_a_channel_keeps_everything_out_of_it(resets: Resets) -> None:
    await resets.slack.send(app_mention(SAM_ID, "I forgot my password"))
    [asked] = await resets.fake.wait_for("chat.postMessage")
    assert asked.params["channel"] == "CITHELP" and asked.params["thread_ts"]
    code = resets.code(SAM_MOBILE)
    assert code not in asked.block_text and SAM_MOBILE not in asked.block_text
    _, view = await resets.enter_code(SAM_ID, asked, code)
    password = _temporary_password(view)
    await resets.fake.settle()
    posted = [c for c in resets.fake.calls if c.method != "views.update"]
    assert password not in json.dumps([c.params for c in posted])


# -- unlock --------------------------------------------------------------------------------


async def test_an_unlock_works_by_modal_or_typed(resets: Resets) -> None:
    asked = await resets.dm(JAMIE_ID, "my account is locked")
    assert "mobile ending 345" in asked.params["text"]
    _, view = await resets.enter_code(JAMIE_ID, asked, resets.code(JAMIE_MOBILE))
    assert "your account is unlocked" in _text(view)
    assert not (await resets.person(JAMIE))["locked"]

    await resets.dm(JAMIE_ID, "unlock my account")
    typed = await resets.dm(JAMIE_ID, resets.code(JAMIE_MOBILE))  # no secret comes back
    assert "your account is unlocked" in typed.params["text"]


async def test_unlock_wrong_codes_and_cancel(resets: Resets) -> None:
    await resets.dm(JAMIE_ID, "unlock my account")
    code = resets.code(JAMIE_MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        await resets.dm(JAMIE_ID, wrong)
    assert "five wrong codes" in (await resets.dm(JAMIE_ID, wrong)).params["text"]
    assert (await resets.person(JAMIE))["locked"]
    await resets.dm(JAMIE_ID, "unlock my account")
    assert "stopped that" in (await resets.dm(JAMIE_ID, "cancel")).params["text"]
    assert "unlocked" not in (await resets.dm(JAMIE_ID, resets.code(JAMIE_MOBILE))).params["text"]


# -- MFA: the code, then an agent's approval in the triage channel -----------------------


def _is_request(call: Call) -> bool:
    return is_approval_request(call, TRIAGE)


def _decide(user: str, post: Call, verb: str) -> str:
    return press_approval(user, post, verb, TRIAGE)


async def _ask_mfa(resets: Resets) -> Call:
    asked = await resets.dm(SAM_ID, "new phone, please reset my MFA")
    _, view = await resets.enter_code(SAM_ID, asked, resets.code(SAM_MOBILE))
    assert "needs an agent's approval" in _text(view)
    [request] = await resets.fake.wait_for("chat.postMessage", where=_is_request)
    assert (await resets.person(SAM))["mfa_methods"]  # nothing removed before approval
    return request


async def _told(resets: Resets, words: str) -> Call:
    found = await resets.fake.wait_for(
        "chat.postMessage", where=lambda c: _to(SAM_ID)(c) and words in c.block_text
    )
    return found[0]


async def test_an_mfa_reset_an_agent_approves(resets: Resets) -> None:
    request = await _ask_mfa(resets)
    await resets.slack.send(_decide(PAT_ID, request, "approve"))
    await _told(resets, "sign-in methods have been removed")
    assert (await resets.person(SAM))["mfa_methods"] == []


async def test_an_mfa_reset_an_agent_denies(resets: Resets) -> None:
    request = await _ask_mfa(resets)
    await resets.slack.send(_decide(PAT_ID, request, "deny"))
    await _told(resets, "didn't approve your request")
    assert (await resets.person(SAM))["mfa_methods"]


async def test_an_mfa_reset_nobody_approves_expires(resets: Resets) -> None:
    await _ask_mfa(resets)
    services = resets.slack.client.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():  # the working hour passes
        await session.execute(sa.update(Approval).values(expires_at=utcnow() - timedelta(1)))
    await sweep_once(services.db, services.desk, now=utcnow())
    await _told(resets, "could approve your request")
    assert (await resets.person(SAM))["mfa_methods"]


async def test_mfa_wrong_codes_privileged_colleague_and_cancel(resets: Resets) -> None:
    asked = await resets.dm(SAM_ID, "please reset my MFA")
    code = resets.code(SAM_MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        await resets.enter_code(SAM_ID, asked, wrong)
    _, view = await resets.enter_code(SAM_ID, asked, wrong)
    assert "five wrong codes" in _text(view)
    admin = await resets.dm(CHRIS_ID, "please reset my MFA")
    assert "passed it to the Joint ICT Service Desk" in admin.params["text"]
    colleague = await resets.dm(SAM_ID, "please reset my colleague Priya's MFA")
    assert "can't do that for a colleague" in colleague.params["text"]
    asked = await resets.dm(SAM_ID, "please reset my MFA")
    await resets.dm(SAM_ID, "cancel")
    _, view = await resets.enter_code(SAM_ID, asked, resets.code(SAM_MOBILE))
    assert "not waiting for a code" in _text(view)


# -- nothing secret anywhere ---------------------------------------------------------------


async def test_no_secret_reaches_a_message_a_log_line_or_the_database(
    resets: Resets, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # every flow: a password reset (with a wrong code first), an unlock typed in the DM,
    # an MFA reset approved in the triage channel
    asked = await resets.dm(SAM_ID, "I forgot my password")
    code = resets.code(SAM_MOBILE)
    await resets.dm(SAM_ID, code)  # typed in the DM: refused, never stored
    await resets.enter_code(SAM_ID, asked, "000000" if code != "000000" else "111111")
    _, view = await resets.enter_code(SAM_ID, asked, code)
    password = _temporary_password(view)
    await resets.dm(JAMIE_ID, "my account is locked")
    await resets.dm(JAMIE_ID, f"the code is {resets.code(JAMIE_MOBILE)}")
    request = await _ask_mfa(resets)
    await resets.slack.send(_decide(PAT_ID, request, "approve"))
    await _told(resets, "sign-in methods have been removed")
    # a ticket with a typed password: in a DM, and through the ticket form's shortcut
    await resets.dm(SAM_ID, f"Outlook keeps asking me to sign in, my password is {TYPED_SECRET}")
    shortcut = {
        "type": "message_action",
        "callback_id": "raise_it_ticket",
        "user": {"id": SAM_ID},
        "channel": {"id": "CFINANCE"},
        "message": {
            "type": "message",
            "user": SAM_ID,
            "ts": "1.1",
            "text": f"Outlook won't sync, my password is {TYPED_SECRET}",
        },
    }
    opened = len(resets.fake.calls_to("views.open"))
    await resets.slack.send(interaction(shortcut))
    form = _view(resets.fake.calls_to("views.open")[opened])
    state = {
        "summary": {"value": {"value": f"Outlook broken, my password is {TYPED_SECRET}"}},
        "category": {"value": {"selected_option": {"value": "email"}}},
        "impact": {"value": {"selected_option": {"value": "blocked"}}},
        "details": {"value": {"value": None}},
    }
    submitted = {**form, "id": "VTICKET", "state": {"values": state}}
    await resets.slack.send(
        interaction({"type": "view_submission", "user": {"id": SAM_ID}, "view": submitted})
    )
    await resets.fake.wait_for("chat.postMessage", where=lambda c: "Done: JSD-" in c.block_text)
    await resets.fake.settle()

    secrets = {password, TYPED_SECRET, *resets.codes()}
    assert len(secrets) >= 5
    # what Slack received: the password only in the one modal that showed it
    shown = [c for c in resets.fake.calls if password in json.dumps(c.params)]
    assert [c.method for c in shown] == ["views.update"]
    received = json.dumps([c.params for c in resets.fake.calls if c not in shown])
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG  # every logger's DEBUG
    stored = await _every_text_in_the_database(resets)
    for secret in secrets:
        leaks = [c for c in resets.fake.calls if secret in json.dumps(c.params) and c not in shown]
        assert secret not in received, [(c.method, c.params) for c in leaks]
        assert secret not in logged, secret
        assert secret not in stored, secret


async def _every_text_in_the_database(resets: Resets) -> str:
    db = resets.slack.client.app[keys.SERVICES].db
    found: list[str] = []
    async with db.engine.connect() as conn:
        for table in [*Base.metadata.sorted_tables, demo_directory]:
            for row in await conn.execute(sa.select(table)):
                found.extend(
                    json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)
                    for v in row
                    if not isinstance(v, bytes)
                )
    return "\n".join(found)
