"""Every reset conversation in the terminal (``itbot chat --as``: proven by the operator's
credentials) and in the web chat (proven by the single sign-on header), on the demo
directory, with codes read from the file notifier. Slack's, with its modals, are in
``tests/slack/test_slack_resets.py``.

Each test runs on each channel, on SQLite and on the local PostgreSQL server.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.desk.actor import Actor
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import AuditEntry, Base, Turn
from integrations.identity.demo import DemoDirectory
from tests.access.support import CHRIS, JAMIE, PRIYA, ROBIN, SAM, ResetBot, reset_bot

SAM_MOBILE = "07700 900123"


@pytest.fixture(params=["terminal", "web"])
def channel(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def temporary_password(printed: str) -> str:
    found = re.search(r"temporary password is:\s+(\S+)", printed)
    assert found, printed
    return found.group(1)


async def audit_actions(bot: ResetBot, subject: str) -> list[str]:
    async with bot.services.db.session() as session:
        rows = await session.execute(
            sa.select(AuditEntry.action)
            .where(AuditEntry.subject == subject)
            .order_by(AuditEntry.id)
        )
        return list(rows.scalars())


async def test_a_password_reset_from_code_to_temporary_password(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        printed = await bot.say(SAM, "I forgot my password")
        assert "your mobile ending 123" in printed
        assert SAM_MOBILE not in printed  # the reply says where, masked
        code = bot.last_code(SAM_MOBILE)
        assert code not in printed  # the code went to the phone, never to the chat

        printed = await bot.say(SAM, code)
        password = temporary_password(printed)
        directory = DemoDirectory(bot.services.db.engine)
        assert await directory.check_password(SAM, password)
        row = await bot.person(SAM)
        assert row["must_change_password"] and row["sessions_revoked_at"] is not None
        notice = bot.sent()[-1]
        assert notice["to"] == SAM_MOBILE and "password was reset" in notice["text"]
        assert "If this wasn't you" in notice["text"]

        async with bot.services.db.session() as session:
            kept = " ".join(
                f"{t.user_text} {t.reply_text}" for t in (await session.scalars(sa.select(Turn)))
            )
        assert password not in kept and code not in kept
        assert "[temporary password shown once]" in kept and "[one-time code]" in kept
        assert await audit_actions(bot, SAM) == ["access_code_sent", "access_reset"]
        if channel == "web":  # a reloaded page gets the history back, never the password
            async with bot.browsers[SAM].http.get("/api/history") as response:
                assert response.status == 200
                history = await response.text()
            assert "[temporary password shown once]" in history
            assert password not in history and code not in history


async def test_an_unlock_clears_a_real_lockout(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        assert (await bot.person(JAMIE))["locked"]
        assert "mobile ending 345" in await bot.say(JAMIE, "my account is locked")
        printed = await bot.say(JAMIE, bot.last_code("07700 900345"))
        assert "your account is unlocked" in printed
        assert not (await bot.person(JAMIE))["locked"]


async def test_five_wrong_codes_end_the_attempt(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(SAM, "reset my password")
        code = bot.last_code(SAM_MOBILE)
        wrong = "000000" if code != "000000" else "111111"
        for left in (4, 3, 2):
            assert f"{left} more tries" in await bot.say(SAM, wrong)
        assert "1 more try" in await bot.say(SAM, wrong)
        assert "five wrong codes" in await bot.say(SAM, wrong)
        before = await bot.person(SAM)
        printed = await bot.say(SAM, code)  # the right one, too late: just a number now
        assert "temporary password" not in printed
        assert await bot.person(SAM) == before
        assert "access_code_rejected" in await audit_actions(bot, SAM)


async def test_an_expired_code_is_refused_and_a_new_one_works(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(SAM, "reset my password")
        code = bot.last_code(SAM_MOBILE)
        bot.later(minutes=10, seconds=1)
        printed = await bot.say(SAM, code)
        assert "expired" in printed and "temporary password" not in printed
        assert "[1] Send a new code" in printed
        await bot.say(SAM, "1")
        fresh = bot.last_code(SAM_MOBILE)
        # said in words: the answer to a code question is the code, not a secret to remove
        printed = await bot.say(SAM, f"the code is {fresh}")
        assert "temporary password is" in printed and "change it" not in printed


def _without_ticket(text: str) -> str:
    return re.sub(r"(?s)JSD-\d+|01632 960 \d+|\n  .*", "", text)


async def test_an_administrator_and_someone_without_a_contact_are_refused_alike(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        admin = await bot.say(CHRIS, "reset my password")
        nobody = await bot.say(ROBIN, "reset my password")
        assert bot.sent() == []  # no code went anywhere
        assert "passed it to the Joint ICT Service Desk as JSD-" in admin
        assert "== Forgotten your password" in admin  # the guide
        assert _without_ticket(admin) == _without_ticket(nobody)
        async with bot.services.db.session() as session:
            for email, reason in ((CHRIS, "privileged"), (ROBIN, "no_contact")):
                staff = await staff_repo.get_by_email(session, email)
                assert staff is not None
                tickets = await bot.services.desk.for_requester(session, staff.id)
                assert [t.category for t in tickets] == ["sign-in"]
                entry = await session.scalar(
                    sa.select(AuditEntry).where(
                        AuditEntry.subject == email, AuditEntry.action == "access_refused"
                    )
                )
                assert entry is not None and entry.details["reason"] == reason
        assert (await bot.person(CHRIS))["must_change_password"] is False


async def test_a_refusal_and_a_sent_code_take_the_same_least_time(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    """The first reply is held to ``ITBOT_RESET_REPLY_SECONDS`` (the suite runs with a
    shorter floor than the default 0.5 s): the outcome can't be told by its timing."""
    floor = 0.4
    async with reset_bot(settings, tmp_path, channel=channel, reset_reply_seconds=floor) as bot:
        for email in (SAM, CHRIS, ROBIN):  # a code sent; an administrator; no contact
            started = time.perf_counter()
            await bot.say(email, "reset my password")
            assert time.perf_counter() - started >= floor, email
        assert [m["to"] for m in bot.sent()] == [SAM_MOBILE]


async def test_the_ticket_for_a_refused_mfa_reset_names_it_for_the_agents(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        assert "passed it to the Joint ICT Service Desk" in await bot.say(CHRIS, "reset my MFA")
        async with bot.services.db.session() as session:
            staff = await staff_repo.get_by_email(session, CHRIS)
            assert staff is not None
            [ticket] = await bot.services.desk.for_requester(session, staff.id)
        assert ticket.summary == f"Reset the sign-in verification (MFA) for {staff.display_name}"


async def test_resets_per_account_and_codes_per_hour_are_limited(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        for _ in range(3):
            await bot.say(SAM, "reset my password")
            assert "temporary password is" in await bot.say(SAM, bot.last_code(SAM_MOBILE))
            bot.later(minutes=30)
        sent = len(bot.sent())
        printed = await bot.say(SAM, "reset my password")
        assert "passed it to the Joint ICT Service Desk" in printed
        assert len(bot.sent()) == sent  # the fourth reset in a day gets no code

    (tmp_path / "codes").mkdir()
    async with reset_bot(settings, tmp_path / "codes", channel=channel) as bot:
        await bot.say(JAMIE, "unlock my account")
        for _ in range(4):
            assert "mobile ending 345" in await bot.say(JAMIE, "1")  # send a new code
        printed = await bot.say(JAMIE, "1")  # the sixth code within the hour
        assert "passed it to the Joint ICT Service Desk" in printed
        assert len(bot.sent()) == 5


async def test_a_reset_for_a_colleague_becomes_a_ticket(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        printed = await bot.say(SAM, "can you reset my colleague Priya's password")
        assert "can't do that for a colleague" in printed and "JSD-" in printed
        assert bot.sent() == []


async def test_cancel_mid_flow_leaves_the_code_useless(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(SAM, "reset my password")
        code = bot.last_code(SAM_MOBILE)
        assert "stopped that" in await bot.say(SAM, "cancel")
        assert "temporary password" not in await bot.say(SAM, code)
        assert (await bot.person(SAM))["must_change_password"] is False


async def test_a_code_that_has_not_come_is_asked_about_in_words(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    """ "I didn't get the code" answers the question the reset asked: where it went and a new
    one on request, never another reset (the words alone read as an MFA reset)."""
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(SAM, "I forgot my password")
        first = bot.last_code(SAM_MOBILE)
        printed = await bot.say(SAM, "I didn't get the code")
        assert "your mobile ending 123" in printed and "Send a new code" in printed
        assert "a text can take a minute or two" in printed
        assert "MFA" not in printed and len(bot.sent()) == 1  # nothing else sent or started
        printed = await bot.say(SAM, "can you send me another code")
        assert "reset your password" in printed and len(bot.sent()) == 2
        second = bot.last_code(SAM_MOBILE)
        assert "temporary password" not in await bot.say(SAM, first)  # the new one replaced it
        assert "temporary password" in await bot.say(SAM, second)


async def test_a_code_sent_by_email_that_has_not_come_is_looked_for_in_junk(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(PRIYA, "I forgot my password")
        printed = await bot.say(PRIYA, "the code hasn't come")
        assert "your personal email p…@example.org" in printed
        assert "check its junk or spam folder" in printed and "address any more" in printed
        assert "a text can" not in printed and "your number" not in printed


async def test_without_the_phone_the_code_went_to_the_desk_is_one_press_away(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    """ "I don't have my phone" at the code was read as an MFA reset, and a second code went
    to the phone they had just said they didn't have."""
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(JAMIE, "I'm locked out")
        printed = await bot.say(JAMIE, "I don't have my phone with me")
        assert "went to your mobile ending 345, so without it" in printed
        assert "call them on 01632 960 100" in printed  # Aylesbury Vale's desk
        assert "[1] Pass it to the desk" in printed and "MFA" not in printed
        assert len(bot.sent()) == 1  # no other code, no other reset
        code = bot.last_code("07700 900345")
        passed = await bot.say(JAMIE, "1")  # the button, typed or pressed
        assert "I've passed it to the Joint ICT Service Desk as JSD-" in passed
        assert "unlocked" not in await bot.say(JAMIE, code)  # that code ended with it
        async with bot.services.db.session() as session:
            staff = await staff_repo.get_by_email(session, JAMIE)
            assert staff is not None
            [ticket] = await bot.services.desk.for_requester(session, staff.id)
        assert ticket.summary == "Unlock the account for Jamie Patel"
        assert (await bot.person(JAMIE))["locked"]


async def test_what_code_says_where_the_code_went(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(SAM, "I forgot my password")
        printed = await bot.say(SAM, "what code?")
        assert "I sent it to your mobile ending 123" in printed and "Send a new code" in printed
        assert "What can I help" not in printed and len(bot.sent()) == 1


async def test_a_reminder_of_the_code_says_where_it_went(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await bot.say(SAM, "I forgot my password")
        printed = await bot.say(SAM, "ok one sec")
        assert "I'm waiting for the code we sent to your mobile ending 123." in printed


async def test_a_new_phone_gets_the_guide_first_and_the_mfa_reset_one_press_away(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        printed = await bot.say(SAM, "I've got a new phone, how do I move my authenticator")
        assert "move Authenticator to the new one yourself" in printed
        assert "== Move Microsoft Authenticator to a new phone" in printed
        assert "[1] Yes, I still have it" in printed
        assert "[2] I don't have the old phone: reset my MFA" in printed
        assert bot.sent() == []  # no code: their sign-in methods are not touched
        async with bot.services.db.session() as session:
            assert await bot.services.desk.approvals.pending(session) == []
        assert await audit_actions(bot, SAM) == []

        printed = await bot.say(SAM, "2")
        assert "sent a 6-digit code to your mobile ending 123" in printed
        printed = await bot.say(SAM, bot.last_code(SAM_MOBILE))
        assert "needs an agent's approval" in printed


async def test_the_help_menus_new_phone_button_shows_the_guide_first(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        menu = await bot.say(SAM, "what can you do?")
        found = re.search(r"\[(\d+)\] New phone / MFA", menu)
        assert found, menu
        printed = await bot.say(SAM, found.group(1))
        assert "== Move Microsoft Authenticator to a new phone" in printed
        assert bot.sent() == []


async def test_the_guide_first_raises_no_ticket_for_someone_the_bot_cannot_reset(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        printed = await bot.say(CHRIS, "getting a replacement phone tomorrow, what about my MFA")
        assert "== Move Microsoft Authenticator to a new phone" in printed
        async with bot.services.db.session() as session:
            staff = await staff_repo.get_by_email(session, CHRIS)
            assert staff is not None
            assert await bot.services.desk.for_requester(session, staff.id) == []
        printed = await bot.say(CHRIS, "2")  # the old phone is gone after all
        assert "passed it to the Joint ICT Service Desk as JSD-" in printed


@pytest.mark.parametrize(
    "said",
    [
        "lost my phone, the authenticator was on it",
        "new phone, old one wiped, how do I get back into my account",
        "new phone, please reset my MFA",
    ],
)
async def test_a_lost_phone_or_a_plain_request_goes_straight_to_the_code(
    settings: Settings, tmp_path: Path, channel: str, said: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        printed = await bot.say(SAM, said)
        assert "sent a 6-digit code to your mobile ending 123" in printed
        assert "== Move Microsoft Authenticator" not in printed


async def _ask_mfa(bot: ResetBot) -> int:
    await bot.say(SAM, "new phone, I need to move my Authenticator, please reset my MFA")
    printed = await bot.say(SAM, bot.last_code(SAM_MOBILE))
    assert "needs an agent's approval" in printed
    async with bot.services.db.session() as session:
        pending = await bot.services.desk.approvals.pending(session)
    assert [a.kind for a in pending] == ["reset_mfa"]
    return pending[0].id


async def _decide(bot: ResetBot, approval_id: int, *, approve: bool) -> None:
    async with bot.services.db.session() as session, session.begin():
        agent = await staff_repo.get_by_email(session, "pat.agent@dacorum.gov.uk")
        assert agent is not None and agent.is_agent
        decision = await bot.services.desk.approvals.decide(
            session, approval_id, Actor.of(agent), approve=approve, now=bot.now, via="dashboard"
        )
        assert decision.ok


async def test_an_mfa_reset_waits_for_an_agent_who_approves(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    agents = ("pat.agent@dacorum.gov.uk",)
    async with reset_bot(settings, tmp_path, channel=channel, desk_agents=agents) as bot:
        approval_id = await _ask_mfa(bot)
        assert (await bot.person(SAM))["mfa_methods"]  # nothing removed before approval
        await _decide(bot, approval_id, approve=True)
        await bot.deliver()
        assert (await bot.person(SAM))["mfa_methods"] == []
        assert "sign-in methods have been removed" in await bot.say(SAM, "hello")
        assert "access_reset" in await audit_actions(bot, SAM)


async def test_an_mfa_reset_an_agent_denies_changes_nothing(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    agents = ("pat.agent@dacorum.gov.uk",)
    async with reset_bot(settings, tmp_path, channel=channel, desk_agents=agents) as bot:
        approval_id = await _ask_mfa(bot)
        await _decide(bot, approval_id, approve=False)
        await bot.deliver()
        assert (await bot.person(SAM))["mfa_methods"]
        assert "didn't approve your request" in await bot.say(SAM, "hello")


async def test_an_mfa_reset_nobody_approves_expires(
    settings: Settings, tmp_path: Path, channel: str
) -> None:
    async with reset_bot(settings, tmp_path, channel=channel) as bot:
        await _ask_mfa(bot)
        bot.later(hours=2)
        async with bot.services.db.session() as session, session.begin():
            expired = await bot.services.desk.approvals.expire_due(session, now=bot.now)
        assert len(expired) == 1
        await bot.deliver()
        assert (await bot.person(SAM))["mfa_methods"]
        assert "could approve your request" in await bot.say(SAM, "hello")


async def test_no_code_or_temporary_password_is_kept_in_a_row_or_a_log_line(
    settings: Settings, tmp_path: Path, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Every flow, right and wrong, then every row of every table and every log line."""
    caplog.set_level(logging.DEBUG)
    agents = ("pat.agent@dacorum.gov.uk",)
    async with reset_bot(settings, tmp_path, channel=channel, desk_agents=agents) as bot:
        shown: list[str] = []
        await bot.say(SAM, "I forgot my password")
        await bot.say(SAM, "000000" if bot.last_code(SAM_MOBILE) != "000000" else "111111")
        shown.append(temporary_password(await bot.say(SAM, bot.last_code(SAM_MOBILE))))
        await bot.say(JAMIE, "my account is locked")
        await bot.say(JAMIE, f"the code is {bot.last_code('07700 900345')}")
        approval_id = await _ask_mfa(bot)
        await _decide(bot, approval_id, approve=True)
        await bot.deliver()
        await bot.say(SAM, "hello")
        await bot.say(CHRIS, "reset my password")
        await bot.say(ROBIN, "unlock my account")

        codes = [m["text"][:6] for m in bot.sent() if m["purpose"] == "code"]
        assert len(codes) == 3 and shown
        async with bot.services.db.session() as session:
            rows = [
                f"{table.name}: {json.dumps(list(row), default=str)}"
                for table in Base.metadata.sorted_tables
                for row in (await session.execute(sa.select(table))).all()
            ]
    assert any(row.startswith("access_codes:") for row in rows)  # hashes were looked at
    lines = [record.getMessage() for record in caplog.records]
    assert lines
    # a code as a value of its own: not the microseconds of a timestamp ("10:00:00.123456")
    patterns = [re.compile(rf"(?<![\d.]){code}(?!\d)") for code in codes]
    patterns += [re.compile(re.escape(password)) for password in shown]
    for pattern in patterns:
        for where, texts in (("row", rows), ("log line", lines)):
            leaked = [text[:200] for text in texts if pattern.search(text)]
            assert not leaked, f"{pattern.pattern!r} is in a {where}: {leaked}"
